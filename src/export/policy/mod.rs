//! What may leave the process, and when: the privacy rules and the `before_send_*` hooks with
//! the views they see, Sentry's rate limits, backpressure handling, and the accounting of losses (client reports).
//! Policy decides; it writes no bytes itself (that is the [wire](super::wire)) and starts no
//! thread (that is the [pipeline](super::pipeline)).

pub(crate) mod backoff;
pub(crate) mod backpressure;
pub(crate) mod outcome;
pub(crate) mod privacy;
pub(crate) mod ratelimit;
pub(crate) mod view;
