//! The thread a span started on, as every span carries it: `thread.id` and `thread.name` in a
//! transaction span's `data` and in a streamed span's attributes (the span protocol's common
//! attributes; the Python SDK records both on every span).
//!
//! A recorded span stores one [`ThreadTag`] (6 bytes, `Copy`, in the padding of its
//! recording), read from a thread-local that is filled once per thread; an unrecorded span
//! stores nothing.
//!
//! - `thread.id` is the number of the thread's [`std::thread::ThreadId`] (`ThreadId::as_u64` is
//!   unstable, so it is read once per thread from the id's `Debug` form, `ThreadId(N)`): the
//!   number `tracing-subscriber`'s `with_thread_ids(true)` prints, unique for the life of the
//!   process, 1 for the main thread. Beyond `u32::MAX` threads, or if the form ever changes,
//!   `thread.id` is left out.
//! - `thread.name` is the thread's name (`main`, `tokio-runtime-worker`, or the name given to
//!   `std::thread::Builder`). Names are kept in a process-wide table of at most
//!   [`MAX_NAMES`] distinct names of at most [`MAX_NAME_BYTES`] bytes each (longer names are
//!   cut at a character boundary), so the table is bounded whatever the number of threads;
//!   a thread whose name does not fit in the table sends no `thread.name`. Unnamed threads send
//!   none either.

use crate::field::cut;
use std::cell::Cell;
use std::sync::{Mutex, OnceLock};

/// Distinct thread names kept at most.
pub(crate) const MAX_NAMES: usize = 256;
/// The longest thread name kept, in bytes.
pub(crate) const MAX_NAME_BYTES: usize = 256;

/// Thread names by index (the index is a [`ThreadTag`]'s name minus one): written once each,
/// read without a lock.
static NAMES: [OnceLock<Box<str>>; MAX_NAMES] = [const { OnceLock::new() }; MAX_NAMES];
/// How many of [`NAMES`] are used; held while a name is added.
static NAMES_USED: Mutex<usize> = Mutex::new(0);

thread_local! {
    /// This thread's tag, once a span recorded on it.
    static CURRENT: Cell<Option<ThreadTag>> = const { Cell::new(None) };
}

/// The thread a span started on: its id number and its name's index in a process-wide table.
/// Packed to 6 bytes so that it fits in the padding of a span's recording.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
#[repr(C, packed(2))]
pub(crate) struct ThreadTag {
    /// The `ThreadId` number; 0 when unknown.
    id: u32,
    /// The index of the name in [`NAMES`], plus one; 0 for none.
    name: u16,
}

impl ThreadTag {
    /// The calling thread's tag: a thread-local read, after the first call on the thread.
    #[inline]
    pub(crate) fn current() -> Self {
        match CURRENT.try_with(Cell::get) {
            Ok(Some(tag)) => tag,
            _ => Self::first_on_this_thread(),
        }
    }

    /// Reads the calling thread's id and name, and keeps them in the thread-local (once per
    /// thread).
    #[cold]
    #[inline(never)]
    fn first_on_this_thread() -> Self {
        let thread = std::thread::current();
        let id = parse_thread_id(&format!("{:?}", thread.id())).unwrap_or(0);
        let name = thread
            .name()
            .map_or(0, |name| intern(&NAMES, &NAMES_USED, name));
        let tag = Self { id, name };
        let _ = CURRENT.try_with(|current| current.set(Some(tag)));
        tag
    }

    /// The thread's id number, if known.
    pub(crate) fn id(self) -> Option<u32> {
        let id = self.id;
        (id != 0).then_some(id)
    }

    /// The thread's name, if it has one and it is in the table.
    pub(crate) fn name(self) -> Option<&'static str> {
        name_at(&NAMES, self.name)
    }
}

impl std::fmt::Debug for ThreadTag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadTag")
            .field("id", &self.id())
            .field("name", &self.name())
            .finish()
    }
}

/// The number in a `ThreadId`'s `Debug` form (`ThreadId(7)`), if it is that form and fits a
/// `u32` other than 0.
fn parse_thread_id(debug: &str) -> Option<u32> {
    let digits = debug.strip_prefix("ThreadId(")?.strip_suffix(')')?;
    digits.parse::<u32>().ok().filter(|id| *id != 0)
}

/// The name at `index` (one-based; 0 is none) of `names`.
fn name_at(names: &'static [OnceLock<Box<str>>], index: u16) -> Option<&'static str> {
    let slot = names.get(usize::from(index).checked_sub(1)?)?;
    slot.get().map(|name| &**name)
}

/// The one-based index of `name` (cut to [`MAX_NAME_BYTES`]) in `names`, added if it is not
/// there yet and there is room; 0 when the table is full.
fn intern(names: &[OnceLock<Box<str>>], used: &Mutex<usize>, name: &str) -> u16 {
    let name = cut(name, MAX_NAME_BYTES);
    let mut used = used.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let known = names
        .iter()
        .take(*used)
        .position(|slot| slot.get().is_some_and(|n| **n == *name));
    let index = match known {
        Some(index) => index,
        None => {
            let Some(slot) = names.get(*used) else {
                return 0;
            };
            if slot.set(Box::from(name)).is_err() {
                return 0;
            }
            *used += 1;
            *used - 1
        }
    };
    u16::try_from(index + 1).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_debug_form_of_a_thread_id() {
        assert_eq!(parse_thread_id("ThreadId(1)"), Some(1));
        assert_eq!(parse_thread_id("ThreadId(4294967295)"), Some(u32::MAX));
        assert_eq!(parse_thread_id("ThreadId(4294967296)"), None);
        assert_eq!(parse_thread_id("ThreadId(0)"), None);
        assert_eq!(parse_thread_id("ThreadId(x)"), None);
        assert_eq!(parse_thread_id("7"), None);
        assert_eq!(parse_thread_id(""), None);
    }

    #[test]
    fn a_named_thread_has_its_name_and_its_own_id() {
        let spawn = |name: &str| {
            std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(|| {
                    let tag = ThreadTag::current();
                    // The second read is the thread-local's.
                    assert_eq!(ThreadTag::current(), tag);
                    (tag, format!("{:?}", std::thread::current().id()))
                })
                .unwrap()
                .join()
                .unwrap()
        };
        let (a, a_debug) = spawn("thread-tag-test-a");
        let (b, b_debug) = spawn("thread-tag-test-b");
        assert_eq!(a.name(), Some("thread-tag-test-a"));
        assert_eq!(b.name(), Some("thread-tag-test-b"));
        assert_eq!(format!("ThreadId({})", a.id().unwrap()), a_debug);
        assert_eq!(format!("ThreadId({})", b.id().unwrap()), b_debug);
        assert_ne!(a.id(), b.id());
    }

    #[test]
    fn an_unnamed_thread_has_no_name() {
        let tag = std::thread::spawn(ThreadTag::current).join().unwrap();
        assert_eq!(tag.name(), None);
        assert!(tag.id().is_some());
    }

    #[test]
    fn the_name_table_is_bounded_and_keeps_one_entry_per_name() {
        static SLOTS: [OnceLock<Box<str>>; 2] = [const { OnceLock::new() }; 2];
        let used = Mutex::new(0);
        assert_eq!(intern(&SLOTS, &used, "a"), 1);
        assert_eq!(intern(&SLOTS, &used, "b"), 2);
        assert_eq!(intern(&SLOTS, &used, "a"), 1);
        // Full: a new name gets none, known ones keep theirs.
        assert_eq!(intern(&SLOTS, &used, "c"), 0);
        assert_eq!(intern(&SLOTS, &used, "b"), 2);
        assert_eq!(name_at(&SLOTS, 1), Some("a"));
        assert_eq!(name_at(&SLOTS, 2), Some("b"));
        assert_eq!(name_at(&SLOTS, 0), None);
        assert_eq!(name_at(&SLOTS, 3), None);
    }

    #[test]
    fn long_names_are_cut_at_a_character_boundary() {
        let long = "é".repeat(MAX_NAME_BYTES);
        let kept = cut(&long, MAX_NAME_BYTES);
        assert_eq!(kept.len(), MAX_NAME_BYTES);
        assert_eq!(cut(&"x".repeat(3), 2), "xx");
        assert_eq!(cut("aé", 2), "a");
    }

    #[test]
    fn a_tag_is_six_bytes() {
        // It lives in the padding of every recorded span's `Recording`.
        assert_eq!(std::mem::size_of::<ThreadTag>(), 6);
    }
}
