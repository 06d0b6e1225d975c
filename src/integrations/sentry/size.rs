//! About the serialised size of the `sentry` crate's items, estimated without serialising (the
//! capturing thread never writes JSON): what the export queue reserves for an envelope in its
//! byte budget. The estimate walks the strings an item carries and adds a fixed cost per field
//! and per collection element for the keys and punctuation; it tracks the real size closely
//! enough that the budget holds about as many events as its bytes say (the tests keep it within
//! a band of the real size for typical and large events).

use sentry_core::protocol::{
    Breadcrumb, Context, Event, Exception, Frame, Level, Map, Request, Stacktrace, Thread, User,
    Value,
};

/// Nested JSON values deeper than this are counted at a flat cost (the walk stays bounded on
/// hostile data).
const MAX_VALUE_DEPTH: usize = 8;

/// About the serialised size of an event: its fixed fields (id, timestamp) and everything it
/// carries.
pub(super) fn event_size(event: &Event<'_>) -> usize {
    const FIXED: usize = 100;
    let mut size = FIXED;
    size += event.fingerprint.iter().map(|f| f.len() + 3).sum::<usize>();
    size += field(event.culprit.as_deref());
    size += field(event.transaction.as_deref());
    size += field(event.message.as_deref());
    if let Some(entry) = &event.logentry {
        size += 40 + entry.message.len() + entry.params.iter().map(value_size).sum::<usize>();
    }
    size += field(event.logger.as_deref());
    size += string_map(&event.modules);
    size += field(event.server_name.as_deref());
    size += field(event.release.as_deref());
    size += field(event.dist.as_deref());
    size += field(event.environment.as_deref());
    size += event.user.as_ref().map_or(0, user_size);
    size += event.request.as_ref().map_or(0, request_size);
    size += event
        .contexts
        .iter()
        .map(|(key, context)| key.len() + context_size(context))
        .sum::<usize>();
    size += list(&event.breadcrumbs.values, breadcrumb_size);
    size += list(&event.exception.values, exception_size);
    size += event.stacktrace.as_ref().map_or(0, stacktrace_size);
    size += list(&event.threads.values, thread_size);
    size += string_map(&event.tags);
    size += value_map(&event.extra);
    if !event.debug_meta.images.is_empty() {
        size += 48 + 256 * event.debug_meta.images.len();
    }
    if let Some(sdk) = &event.sdk {
        size += 60
            + sdk.name.len()
            + sdk.version.len()
            + sdk.integrations.iter().map(|i| i.len() + 3).sum::<usize>()
            + sdk
                .packages
                .iter()
                .map(|p| 30 + p.name.len() + p.version.len())
                .sum::<usize>();
    }
    size
}

/// A key, quotes and a value: a string field, when set.
fn field(value: Option<&str>) -> usize {
    value.map_or(0, |v| 16 + v.len())
}

fn list<T>(items: &[T], size: impl Fn(&T) -> usize) -> usize {
    if items.is_empty() {
        0
    } else {
        24 + items.iter().map(size).sum::<usize>()
    }
}

fn string_map(map: &Map<String, String>) -> usize {
    map.iter().map(|(k, v)| 6 + k.len() + v.len()).sum()
}

fn value_map(map: &Map<String, Value>) -> usize {
    value_map_at(map, 0)
}

fn value_map_at<'a>(map: impl IntoIterator<Item = (&'a String, &'a Value)>, depth: usize) -> usize {
    map.into_iter()
        .map(|(k, v)| 4 + k.len() + value_size_at(v, depth + 1))
        .sum()
}

fn value_size(value: &Value) -> usize {
    value_size_at(value, 0)
}

fn value_size_at(value: &Value, depth: usize) -> usize {
    if depth > MAX_VALUE_DEPTH {
        return 64;
    }
    match value {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 12,
        Value::String(s) => 3 + s.len(),
        Value::Array(items) => {
            2 + items
                .iter()
                .map(|v| 1 + value_size_at(v, depth + 1))
                .sum::<usize>()
        }
        Value::Object(map) => 2 + value_map_at(map, depth),
    }
}

fn context_size(context: &Context) -> usize {
    match context {
        Context::Other(map) => 24 + value_map(map),
        // The typed contexts (os, runtime, device, trace, ...) are a handful of short fields.
        _ => 110,
    }
}

fn user_size(user: &User) -> usize {
    24 + field(user.id.as_deref())
        + field(user.email.as_deref())
        + field(user.username.as_deref())
        + user.ip_address.as_ref().map_or(0, |_| 40)
        + value_map(&user.other)
}

fn request_size(request: &Request) -> usize {
    24 + request.url.as_ref().map_or(0, |u| 10 + u.as_str().len())
        + field(request.method.as_deref())
        + field(request.data.as_deref())
        + field(request.query_string.as_deref())
        + field(request.cookies.as_deref())
        + string_map(&request.headers)
        + string_map(&request.env)
}

fn breadcrumb_size(crumb: &Breadcrumb) -> usize {
    // The timestamp; the type and level only when not the defaults (`default`, `info`).
    let ty = if crumb.ty == "default" {
        0
    } else {
        10 + crumb.ty.len()
    };
    let level = if crumb.level == Level::Info { 0 } else { 16 };
    36 + ty
        + level
        + field(crumb.category.as_deref())
        + field(crumb.message.as_deref())
        + value_map(&crumb.data)
}

fn exception_size(exception: &Exception) -> usize {
    let mechanism = exception.mechanism.as_ref().map_or(0, |m| {
        40 + m.ty.len()
            + field(m.description.as_deref())
            + m.help_link.as_ref().map_or(0, |u| 16 + u.as_str().len())
            + value_map(&m.data)
    });
    24 + exception.ty.len()
        + field(exception.value.as_deref())
        + field(exception.module.as_deref())
        + exception.stacktrace.as_ref().map_or(0, stacktrace_size)
        + exception.raw_stacktrace.as_ref().map_or(0, stacktrace_size)
        + exception.thread_id.as_ref().map_or(0, |_| 20)
        + mechanism
}

fn stacktrace_size(stacktrace: &Stacktrace) -> usize {
    20 + list(&stacktrace.frames, frame_size) + 20 * stacktrace.registers.len()
}

fn frame_size(frame: &Frame) -> usize {
    let lines = |lines: &[String]| lines.iter().map(|l| 3 + l.len()).sum::<usize>();
    let addresses = [
        frame.image_addr.is_some(),
        frame.instruction_addr.is_some(),
        frame.symbol_addr.is_some(),
    ]
    .into_iter()
    .filter(|set| *set)
    .count();
    4 + field(frame.function.as_deref())
        + field(frame.symbol.as_deref())
        + field(frame.module.as_deref())
        + field(frame.package.as_deref())
        + field(frame.filename.as_deref())
        + field(frame.abs_path.as_deref())
        + frame.lineno.map_or(0, |_| 16)
        + frame.colno.map_or(0, |_| 14)
        + frame.in_app.map_or(0, |_| 14)
        + field(frame.context_line.as_deref())
        + lines(&frame.pre_context)
        + lines(&frame.post_context)
        + value_map(&frame.vars)
        + 40 * addresses
        + field(frame.addr_mode.as_deref())
}

fn thread_size(thread: &Thread) -> usize {
    40 + field(thread.name.as_deref())
        + thread.stacktrace.as_ref().map_or(0, stacktrace_size)
        + thread.raw_stacktrace.as_ref().map_or(0, stacktrace_size)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use proptest::prelude::*;
    use sentry_core::protocol::{OsContext, TraceContext, Values};

    use super::*;

    /// The real size of the event's JSON.
    fn real(event: &Event<'_>) -> usize {
        serde_json::to_vec(event).map(|v| v.len()).unwrap_or(0)
    }

    fn assert_close(event: &Event<'_>) {
        let (estimate, real) = (event_size(event), real(event));
        let ratio = estimate as f64 / real as f64;
        assert!(
            (0.85..=1.25).contains(&ratio),
            "estimate {estimate} against {real} bytes (x{ratio:.2})"
        );
    }

    /// An event as `sentry::capture_message` makes it in a service: SDK, contexts, tags.
    fn message_event() -> Event<'static> {
        let mut event = Event {
            message: Some("request failed: upstream timed out".to_owned()),
            level: Level::Error,
            release: Some(Cow::Borrowed("my-service@1.4.2")),
            environment: Some(Cow::Borrowed("production")),
            server_name: Some(Cow::Borrowed("ip-10-0-12-34")),
            sdk: Some(Cow::Owned(sentry_core::protocol::ClientSdkInfo {
                name: "sentry.rust".to_owned(),
                version: "0.49.5".to_owned(),
                integrations: vec!["contexts".to_owned(), "panic".to_owned()],
                packages: vec![sentry_core::protocol::ClientSdkPackage {
                    name: "cargo:sentry".to_owned(),
                    version: "0.49.5".to_owned(),
                }],
            })),
            ..Event::default()
        };
        event.contexts.insert(
            "os".to_owned(),
            Context::Os(Box::new(OsContext {
                name: Some("Linux".to_owned()),
                version: Some("6.1.0".to_owned()),
                kernel_version: Some("6.1.0-18-amd64".to_owned()),
                ..OsContext::default()
            })),
        );
        event.contexts.insert(
            "trace".to_owned(),
            Context::Trace(Box::new(TraceContext {
                op: Some("http.server".to_owned()),
                ..TraceContext::default()
            })),
        );
        event
            .tags
            .insert("route".to_owned(), "/orders/{id}".to_owned());
        event
    }

    #[test]
    fn a_message_event_is_estimated_close_to_its_size() {
        assert_close(&message_event());
    }

    #[test]
    fn an_error_with_a_deep_stacktrace_and_breadcrumbs_is_estimated_close_to_its_size() {
        let mut event = message_event();
        let frames = (0..40)
            .map(|i| Frame {
                function: Some(format!("my_service::handlers::orders::step_{i}")),
                filename: Some("src/handlers/orders.rs".to_owned()),
                abs_path: Some("/build/my-service/src/handlers/orders.rs".to_owned()),
                lineno: Some(100 + i),
                in_app: Some(true),
                ..Frame::default()
            })
            .collect();
        event.exception = Values {
            values: vec![Exception {
                ty: "std::io::Error".to_owned(),
                value: Some("connection reset by peer".to_owned()),
                stacktrace: Some(Stacktrace {
                    frames,
                    ..Stacktrace::default()
                }),
                ..Exception::default()
            }],
        };
        event.breadcrumbs = Values {
            values: (0..100)
                .map(|i| Breadcrumb {
                    category: Some("http".to_owned()),
                    message: Some(format!("GET /inventory/{i} 200")),
                    ..Breadcrumb::default()
                })
                .collect(),
        };
        event.extra.insert(
            "payload".to_owned(),
            serde_json::json!({"items": [1, 2, 3], "note": "x".repeat(500), "nested": {"a": [true, null]}}),
        );
        assert_close(&event);
    }

    #[test]
    fn deeply_nested_values_are_counted_without_walking_them_all() {
        let mut value = Value::Null;
        for _ in 0..10_000 {
            value = Value::Array(vec![value]);
        }
        // A flat cost past the depth limit, not a walk (nor a stack overflow) of 10,000 levels.
        assert!(value_size(&value) < 64 + 4 * MAX_VALUE_DEPTH + 16);
        // Deep values are dropped the same way they were built, one level at a time, so the
        // test itself does not overflow the stack on drop.
        while let Value::Array(mut items) = value {
            value = items.pop().unwrap_or(Value::Null);
        }
    }

    proptest! {
        /// Any message, tags and extra strings: the estimate stays within the band.
        #[test]
        fn events_with_any_strings_are_estimated_within_the_band(
            message in "[a-zA-Z0-9 ]{0,400}",
            tags in proptest::collection::btree_map("[a-z_.]{1,24}", "[a-zA-Z0-9/_-]{0,60}", 0..20),
            extra in proptest::collection::btree_map("[a-z_]{1,16}", "[a-zA-Z0-9 ]{0,200}", 0..10),
        ) {
            let mut event = message_event();
            event.message = Some(message);
            event.tags = tags.into_iter().collect();
            event.extra = extra.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            assert_close(&event);
        }
    }
}
