//! The bounded queue between the instrumented program and the export senders, and nothing
//! else: the delivery policy (rate limits, retries, client reports) lives in
//! [`delivery`](crate::export::pipeline), as tracing-appender keeps its worker apart from its channel.
//!
//! - **Bounded** by a number of items and by their estimated bytes. The bytes of an item stay
//!   reserved until its sender is done with it (the sender's next [`pop_into`](Queue::pop_into)
//!   says so), so the budget covers what is
//!   queued and what is in flight.
//! - **Never blocks a producer**: a push takes a short lock and fails (returning the item)
//!   when the queue is full or closed.
//! - **Priorities** ([`Priority`]): consumers take the highest priority first; a push into a
//!   full queue sheds queued items of lower priorities (oldest first, the lowest priority
//!   first) to make room, and fails only when nothing of a lower priority is queued. The
//!   highest priority (errors) is bounded by the byte budget alone: it neither counts
//!   against the item limit nor is held back by it.
//!   So a burst of logs or transactions never costs an error its place.
//! - **Exact flush**: every item gets a sequence number; [`flush_until`](Queue::flush_until)
//!   waits until every item pushed before the call is done, whichever consumer took it and in
//!   whatever order they finish.
//! - **Consumers** (sender threads) are counted: the queue tells a consumer when another one
//!   would help (items waiting and nobody idle), lets idle ones retire down to one, and lets
//!   the owner wait for all of them to exit after [`close`](Queue::close).
//! - **Few wake-ups** (a wake-up is a system call, and a context switch for the woken thread):
//!   a push wakes a parked consumer only when none lingers (see [`LINGER`]); a consumer that
//!   takes an item while more wait passes the work on to a parked one, so a burst is still
//!   handled in parallel; finishing an item notifies only when a flush (or the owner) waits.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::export::wire::category::Priority;

/// How long a consumer keeps polling after the queue ran empty before it parks. Under load,
/// items then reach it without any wake-up: a producer notifies a parked consumer only when
/// no consumer lingers (a futex wake is a system call on the instrumented thread), so an item
/// may wait up to this long.
const LINGER: Duration = Duration::from_millis(2);

/// A bounded multi-producer, multi-consumer queue; see the module docs.
pub(crate) struct Queue<T> {
    state: Mutex<State<T>>,
    /// Wakes consumers: an item was queued, or the queue was closed.
    work: Condvar,
    /// Wakes flushes and the owner: an item was done, or a consumer exited.
    progress: Condvar,
    max_items: usize,
    max_bytes: usize,
}

struct State<T> {
    /// The queued items, one FIFO per [`Priority`] (by its index).
    classes: [Class<T>; Priority::COUNT],
    /// The number of queued items (over every priority).
    len: usize,
    /// Bytes of queued and in-flight items.
    bytes: usize,
    next_seq: u64,
    /// Sequence numbers of items taken but not done.
    in_flight: Vec<u64>,
    closed: bool,
    /// Consumers that have registered and not exited.
    consumers: usize,
    /// Consumers waiting for work (lingering or parked).
    idle: usize,
    /// Consumers in an untimed (or long) wait that need a notification.
    parked: usize,
    /// Threads waiting on `progress` (flushes, the owner waiting for consumers to exit): with
    /// none, finishing an item notifies nobody (a notification is a system call).
    watchers: usize,
}

/// The queued items of one priority.
struct Class<T> {
    items: VecDeque<Entry<T>>,
    /// Their bytes.
    bytes: usize,
}

impl<T> Default for Class<T> {
    fn default() -> Self {
        Self {
            items: VecDeque::new(),
            bytes: 0,
        }
    }
}

struct Entry<T> {
    seq: u64,
    bytes: usize,
    item: T,
}

/// Why a push failed; the item comes back so the caller can account for it.
#[derive(Debug)]
pub(crate) enum PushError<T> {
    /// The item or byte limit was reached.
    Full(T),
    /// The queue was closed.
    Closed(T),
}

/// Proof that a consumer took an item; hand it back to the consumer's next
/// [`Queue::pop_into`] once done with the item.
#[derive(Debug)]
#[must_use = "pass the ticket to the next `Queue::pop_into`, or flushes wait forever"]
pub(crate) struct Ticket {
    seq: u64,
    bytes: usize,
}

/// What [`Queue::pop_into`] returns.
#[derive(Debug)]
pub(crate) enum Pop {
    /// An item, now in the consumer's slot; `grow` says that more items wait and no other
    /// consumer is idle.
    Item { ticket: Ticket, grow: bool },
    /// Nothing arrived within the idle time.
    Idle,
    /// The queue is closed and empty: the consumer should exit.
    Closed,
}

impl<T> Queue<T> {
    /// A queue of at most `max_items` items (at least 1) and `max_bytes` estimated bytes.
    pub(crate) fn new(max_items: usize, max_bytes: usize) -> Self {
        Self {
            state: Mutex::new(State {
                classes: Default::default(),
                len: 0,
                bytes: 0,
                next_seq: 0,
                in_flight: Vec::new(),
                closed: false,
                consumers: 0,
                idle: 0,
                parked: 0,
                watchers: 0,
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            max_items: max_items.max(1),
            max_bytes,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // Nothing panics while holding the lock; if something did, the state is still
        // consistent, so carry on.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `item` of `bytes` estimated bytes at `priority` without blocking; returns the
    /// items of lower priorities shed to make room (the caller accounts for them). An item
    /// larger than the whole byte budget is still accepted into an otherwise empty queue, so
    /// that it gets a chance.
    pub(crate) fn push_with(
        &self,
        item: T,
        bytes: usize,
        priority: Priority,
    ) -> Result<Vec<T>, PushError<T>> {
        let mut state = self.lock();
        if state.closed {
            return Err(PushError::Closed(item));
        }
        // Errors are bounded by the byte budget alone: a burst of them is never refused for
        // want of an item slot while bytes remain, and takes no slot from the others.
        let critical = state
            .classes
            .get(Priority::Critical.index())
            .map_or(0, |class| class.items.len());
        let mut need_slot =
            priority < Priority::Critical && state.len.saturating_sub(critical) >= self.max_items;
        let mut excess = if state.bytes > 0 {
            state
                .bytes
                .saturating_add(bytes)
                .saturating_sub(self.max_bytes)
        } else {
            0
        };
        let mut shed = Vec::new();
        if need_slot || excess > 0 {
            // Room only from lower priorities, and only if they can make enough of it.
            let lower = state.classes.get(..priority.index()).unwrap_or_default();
            let lower_len: usize = lower.iter().map(|class| class.items.len()).sum();
            let lower_bytes: usize = lower.iter().map(|class| class.bytes).sum();
            if (need_slot && lower_len == 0) || excess > lower_bytes {
                return Err(PushError::Full(item));
            }
            let mut freed = 0usize;
            for class in state.classes.iter_mut().take(priority.index()) {
                while need_slot || excess > 0 {
                    let Some(entry) = class.items.pop_front() else {
                        break;
                    };
                    class.bytes = class.bytes.saturating_sub(entry.bytes);
                    freed = freed.saturating_add(entry.bytes);
                    excess = excess.saturating_sub(entry.bytes);
                    need_slot = false;
                    shed.push(entry.item);
                }
            }
            state.len -= shed.len();
            state.bytes = state.bytes.saturating_sub(freed);
        }
        let seq = state.next_seq;
        let Some(class) = state.classes.get_mut(priority.index()) else {
            return Err(PushError::Full(item));
        };
        class.bytes = class.bytes.saturating_add(bytes);
        class.items.push_back(Entry { seq, bytes, item });
        state.next_seq += 1;
        state.bytes = state.bytes.saturating_add(bytes);
        state.len += 1;
        // A lingering consumer polls again within `LINGER` and takes the item then: wake a
        // parked one only when no consumer lingers. Otherwise, with more consumers than the load
        // needs (some parked), every push would wake one.
        let wake = state.parked > 0 && state.idle == state.parked;
        drop(state);
        if wake {
            self.work.notify_one();
        }
        Ok(shed)
    }

    /// [`push_with`](Self::push_with) at one priority, where nothing is ever shed.
    #[cfg(test)]
    pub(crate) fn push(&self, item: T, bytes: usize) -> Result<(), PushError<T>> {
        self.push_with(item, bytes, Priority::Medium).map(|shed| {
            assert!(shed.is_empty(), "nothing of a lower priority was queued");
        })
    }

    /// Registers a consumer unless `max` are already registered; returns whether it did.
    pub(crate) fn add_consumer(&self, max: usize) -> bool {
        let mut state = self.lock();
        if state.closed || state.consumers >= max.max(1) {
            return false;
        }
        state.consumers += 1;
        true
    }

    /// Unregisters a consumer (it is about to exit).
    pub(crate) fn remove_consumer(&self) {
        let mut state = self.lock();
        state.consumers = state.consumers.saturating_sub(1);
        self.notify_progress(state);
    }

    /// Takes the next item into `slot`, waiting up to `idle_after` for one; first marks the
    /// consumer's last item done (`finished`, its ticket), under the same lock.
    ///
    /// The item is moved into `slot`, which the consumer handles it in: one move of a large
    /// item rather than one through each return. What `slot` held is dropped under the lock,
    /// so the consumer leaves a value there that holds nothing (and costs nothing to drop).
    pub(crate) fn pop_into(
        &self,
        idle_after: Duration,
        finished: Option<Ticket>,
        slot: &mut T,
    ) -> Pop {
        // The idle time counts from the first time the queue is found empty: an item waiting
        // costs no clock read.
        let mut started: Option<Instant> = None;
        let mut state = self.lock();
        if let Some(ticket) = finished {
            state.finish(&ticket);
            // A flush may be complete now; it waits on the lock at most for this pop.
            if state.watchers > 0 {
                self.progress.notify_all();
            }
        }
        let mut lingered = false;
        loop {
            if let Some(ticket) = state.pop_highest_into(slot) {
                state.in_flight.push(ticket.seq);
                let more = state.len > 0;
                let grow = more && state.idle == 0;
                // More items wait: pass the work on to a parked consumer (a push does not wake
                // one while a consumer lingers), so items in a burst are handled in parallel.
                let pass_on = more && state.parked > 0;
                drop(state);
                if pass_on {
                    self.work.notify_one();
                }
                return Pop::Item { ticket, grow };
            }
            if state.closed {
                return Pop::Closed;
            }
            let now = Instant::now();
            let deadline = started.get_or_insert(now).checked_add(idle_after);
            if deadline.is_some_and(|d| now >= d) {
                return Pop::Idle;
            }
            // First a short timed wait that producers do not notify, then a parked one that
            // they do.
            let park = lingered;
            lingered = true;
            let until = if park {
                deadline
            } else {
                now.checked_add(LINGER).min(deadline)
            };
            state.idle += 1;
            if park {
                state.parked += 1;
            }
            state = match wait(&self.work, state, until) {
                Some(state) => state,
                None => self.lock(),
            };
            state.idle = state.idle.saturating_sub(1);
            if park {
                state.parked = state.parked.saturating_sub(1);
            }
        }
    }

    /// Marks the item of `ticket` done: its bytes are released and flushes may complete.
    #[cfg(test)]
    pub(crate) fn done(&self, ticket: Ticket) {
        let mut state = self.lock();
        state.finish(&ticket);
        self.notify_progress(state);
    }

    /// Wakes the threads waiting on `progress`, if any.
    fn notify_progress(&self, state: MutexGuard<'_, State<T>>) {
        let watched = state.watchers > 0;
        drop(state);
        if watched {
            self.progress.notify_all();
        }
    }

    /// [`wait`] on `progress`, counted in `watchers`; `None` once `deadline` has passed.
    fn watch<'a>(
        &'a self,
        mut state: MutexGuard<'a, State<T>>,
        deadline: Option<Instant>,
    ) -> Option<MutexGuard<'a, State<T>>> {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return None;
        }
        state.watchers += 1;
        let mut state = match wait(&self.progress, state, deadline) {
            Some(state) => state,
            None => self.lock(),
        };
        state.watchers = state.watchers.saturating_sub(1);
        Some(state)
    }

    /// Waits until every item pushed before the call is done, or until `deadline`; returns
    /// whether they were. Returns `false` at once if no consumer is left to do them.
    pub(crate) fn flush_until(&self, deadline: Option<Instant>) -> bool {
        let mut state = self.lock();
        let target = state.next_seq;
        loop {
            let lowest = state
                .classes
                .iter()
                .filter_map(|class| class.items.front().map(|e| e.seq))
                .chain(state.in_flight.iter().copied())
                .min();
            if lowest.map_or(true, |lowest| lowest >= target) {
                return true;
            }
            if state.consumers == 0 {
                return false;
            }
            state = match self.watch(state, deadline) {
                Some(state) => state,
                None => return false,
            };
        }
    }

    /// Closes the queue: later pushes fail, consumers exit once it is empty. Returns the items
    /// still queued (they will not be handed out), then queues `last` (if any) for the
    /// consumers to handle before they exit.
    pub(crate) fn close(&self, last: Option<T>) -> Vec<T> {
        let mut state = self.lock();
        state.closed = true;
        let mut released = 0usize;
        let mut drained: Vec<T> = Vec::with_capacity(state.len);
        for class in state.classes.iter_mut().rev() {
            class.bytes = 0;
            drained.extend(class.items.drain(..).map(|e| {
                released = released.saturating_add(e.bytes);
                e.item
            }));
        }
        state.len = 0;
        state.bytes = state.bytes.saturating_sub(released);
        if let Some(item) = last {
            let seq = state.next_seq;
            state.next_seq += 1;
            if let Some(class) = state.classes.last_mut() {
                class.items.push_back(Entry {
                    seq,
                    bytes: 0,
                    item,
                });
                state.len += 1;
            }
        }
        drop(state);
        self.work.notify_all();
        self.progress.notify_all();
        drained
    }

    /// Returns whether the queue was closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Sleeps for `delay` unless the queue is closed first; returns `false` if it was closed.
    pub(crate) fn sleep_unless_closed(&self, delay: Duration) -> bool {
        let deadline = Instant::now().checked_add(delay);
        let mut state = self.lock();
        while !state.closed {
            state = match wait(&self.work, state, deadline) {
                Some(state) => state,
                None => return true,
            };
        }
        false
    }

    /// Waits until every consumer has exited, or until `deadline`; returns whether they had.
    pub(crate) fn wait_consumers_exited(&self, deadline: Option<Instant>) -> bool {
        let mut state = self.lock();
        while state.consumers > 0 {
            state = match self.watch(state, deadline) {
                Some(state) => state,
                None => return false,
            };
        }
        true
    }

    /// Unregisters an idle consumer if more than `keep` are registered and nothing is queued;
    /// returns whether it did (the consumer should then exit).
    pub(crate) fn retire_idle_consumer(&self, keep: usize) -> bool {
        let mut state = self.lock();
        if state.consumers > keep.max(1) && state.len == 0 && !state.closed {
            state.consumers -= 1;
            self.notify_progress(state);
            return true;
        }
        false
    }

    /// Whether half the item slots or half the byte budget are taken: a backlog that will
    /// soon shed.
    pub(crate) fn half_full(&self) -> bool {
        let state = self.lock();
        state.len >= self.max_items.div_ceil(2) || state.bytes >= self.max_bytes.div_ceil(2)
    }

    /// `(queued items, in-flight items, reserved bytes, consumers)`.
    pub(crate) fn load(&self) -> (usize, usize, usize, usize) {
        let state = self.lock();
        (
            state.len,
            state.in_flight.len(),
            state.bytes,
            state.consumers,
        )
    }
}

impl<T> State<T> {
    /// Moves the oldest item of the highest priority that has one into `slot` (what `slot`
    /// held is dropped) and returns its ticket.
    fn pop_highest_into(&mut self, slot: &mut T) -> Option<Ticket> {
        let class = self
            .classes
            .iter_mut()
            .rev()
            .find(|class| !class.items.is_empty())?;
        let entry = class.items.pop_front()?;
        *slot = entry.item;
        let ticket = Ticket {
            seq: entry.seq,
            bytes: entry.bytes,
        };
        class.bytes = class.bytes.saturating_sub(ticket.bytes);
        self.len -= 1;
        Some(ticket)
    }

    /// Releases the bytes of the item of `ticket` and forgets its sequence number.
    fn finish(&mut self, ticket: &Ticket) {
        if let Some(pos) = self.in_flight.iter().position(|&s| s == ticket.seq) {
            self.in_flight.swap_remove(pos);
        }
        self.bytes = self.bytes.saturating_sub(ticket.bytes);
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (len, in_flight, bytes, consumers) = self.load();
        f.debug_struct("Queue")
            .field("len", &len)
            .field("in_flight", &in_flight)
            .field("bytes", &bytes)
            .field("consumers", &consumers)
            .field("max_items", &self.max_items)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

/// Waits on `condvar` until notified or `deadline` (`None` = no deadline); returns `None` once
/// the deadline has passed.
fn wait<'a, S>(
    condvar: &Condvar,
    guard: MutexGuard<'a, S>,
    deadline: Option<Instant>,
) -> Option<MutexGuard<'a, S>> {
    match deadline {
        None => Some(condvar.wait(guard).unwrap_or_else(PoisonError::into_inner)),
        Some(deadline) => {
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            let (guard, _) = condvar
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(PoisonError::into_inner);
            Some(guard)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`Queue::pop_into`] with nothing finished and a fresh slot: the outcome and the slot.
    fn pop(queue: &Queue<u32>, idle_after: Duration) -> (Pop, u32) {
        let mut slot = u32::MAX;
        let pop = queue.pop_into(idle_after, None, &mut slot);
        (pop, slot)
    }

    fn take(queue: &Queue<u32>) -> (Ticket, u32) {
        match pop(queue, Duration::from_secs(1)) {
            (Pop::Item { ticket, .. }, item) => (ticket, item),
            (other, _) => panic!("expected an item, got {other:?}"),
        }
    }

    /// Waits (up to a second) until `n` consumers are parked.
    fn until_parked(queue: &Queue<u32>, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while queue.lock().parked < n {
            assert!(Instant::now() < deadline, "consumers never parked");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_burst_is_passed_on_to_parked_consumers() {
        // Two parked consumers; two items arrive while one wake-up is under way (as when a
        // consumer lingers and pushes wake nobody). The consumer that takes the first item must
        // wake the other for the second: both items are then in flight at once.
        let queue = std::sync::Arc::new(Queue::new(10, usize::MAX));
        let (tx, rx) = std::sync::mpsc::channel();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                assert!(queue.add_consumer(2));
                let (queue, tx, barrier) = (queue.clone(), tx.clone(), barrier.clone());
                std::thread::spawn(move || {
                    if let (Pop::Item { ticket, .. }, item) = pop(&queue, Duration::from_secs(10)) {
                        tx.send(item).unwrap();
                        barrier.wait();
                        queue.done(ticket);
                    }
                    queue.remove_consumer();
                })
            })
            .collect();
        until_parked(&queue, 2);
        {
            let mut state = queue.lock();
            for seq in 0..2 {
                state.next_seq += 1;
                state.len += 1;
                let class = state.classes.get_mut(Priority::Medium.index()).unwrap();
                class.items.push_back(Entry {
                    seq,
                    bytes: 0,
                    item: seq as u32,
                });
            }
        }
        queue.work.notify_one();
        let mut got = [
            rx.recv_timeout(Duration::from_secs(5)).expect("first item"),
            rx.recv_timeout(Duration::from_secs(5))
                .expect("the second item, in parallel"),
        ];
        got.sort_unstable();
        assert_eq!(got, [0, 1]);
        for consumer in consumers {
            consumer.join().unwrap();
        }
        assert!(queue.flush_until(Some(Instant::now())));
    }

    #[test]
    fn finishing_an_item_with_no_flush_waiting_notifies_nobody_but_a_flush_still_completes() {
        let queue = std::sync::Arc::new(Queue::new(10, usize::MAX));
        assert!(queue.add_consumer(1));
        queue.push(1, 0).unwrap();
        let (ticket, _) = take(&queue);
        assert_eq!(queue.lock().watchers, 0);
        let flusher = {
            let queue = queue.clone();
            std::thread::spawn(move || {
                queue.flush_until(Some(Instant::now() + Duration::from_secs(5)))
            })
        };
        let deadline = Instant::now() + Duration::from_secs(1);
        while queue.lock().watchers == 0 {
            assert!(Instant::now() < deadline, "the flush never waited");
            std::thread::sleep(Duration::from_millis(1));
        }
        queue.done(ticket);
        assert!(flusher.join().unwrap(), "the flush saw the item done");
        assert_eq!(queue.lock().watchers, 0);
    }

    #[test]
    fn limits_on_items_and_bytes_refuse_without_blocking() {
        let queue = Queue::new(3, 100);
        assert!(queue.push(1, 60).is_ok());
        assert!(
            matches!(queue.push(2, 60), Err(PushError::Full(2))),
            "bytes"
        );
        assert!(queue.push(3, 20).is_ok());
        assert!(queue.push(4, 0).is_ok());
        assert!(matches!(queue.push(5, 0), Err(PushError::Full(5))), "items");
        // An item's bytes stay reserved while it is in flight.
        assert!(queue.add_consumer(1));
        let (ticket, item) = take(&queue);
        assert_eq!(item, 1);
        assert!(matches!(queue.push(6, 60), Err(PushError::Full(6))));
        queue.done(ticket);
        assert!(queue.push(6, 60).is_ok(), "released when done");
        let drained = queue.close(None);
        assert_eq!(drained, [3, 4, 6]);
        assert!(matches!(queue.push(7, 0), Err(PushError::Closed(7))));
    }

    #[test]
    fn consumers_take_the_highest_priority_first_and_fifo_within_one() {
        let queue = Queue::new(10, usize::MAX);
        queue.push_with(1, 0, Priority::Low).unwrap();
        queue.push_with(2, 0, Priority::Medium).unwrap();
        queue.push_with(3, 0, Priority::Critical).unwrap();
        queue.push_with(4, 0, Priority::Low).unwrap();
        queue.push_with(5, 0, Priority::Critical).unwrap();
        let order: Vec<u32> = (0..5)
            .map(|_| {
                let (ticket, item) = take(&queue);
                queue.done(ticket);
                item
            })
            .collect();
        assert_eq!(order, [3, 5, 2, 1, 4]);
    }

    #[test]
    fn a_full_queue_sheds_the_lowest_priority_first_and_never_a_higher_one() {
        let queue = Queue::new(3, usize::MAX);
        queue.push_with(1, 0, Priority::Medium).unwrap();
        queue.push_with(2, 0, Priority::Low).unwrap();
        queue.push_with(3, 0, Priority::Low).unwrap();
        // An error needs no item slot (only bytes): nothing is shed for it.
        assert_eq!(
            queue.push_with(4, 0, Priority::Critical).unwrap(),
            Vec::<u32>::new()
        );
        // Check-ins take the places of the oldest logs, then of the transaction.
        assert_eq!(queue.push_with(5, 0, Priority::High).unwrap(), [2]);
        assert_eq!(queue.push_with(6, 0, Priority::High).unwrap(), [3]);
        // A transaction finds nothing of a lower priority to shed.
        assert!(matches!(
            queue.push_with(7, 0, Priority::Medium),
            Err(PushError::Full(7))
        ));
        assert_eq!(queue.push_with(8, 0, Priority::High).unwrap(), [1]);
        assert!(matches!(
            queue.push_with(9, 0, Priority::High),
            Err(PushError::Full(9))
        ));
        assert_eq!(queue.close(None), [4, 5, 6, 8]);
        // Errors do not shed errors: over the byte budget, one is refused.
        let queue = Queue::new(10, 100);
        queue.push_with(1, 60, Priority::Critical).unwrap();
        assert!(matches!(
            queue.push_with(2, 60, Priority::Critical),
            Err(PushError::Full(2))
        ));
    }

    #[test]
    fn queued_errors_take_no_item_slot_from_the_others() {
        let queue = Queue::new(2, usize::MAX);
        for error in 0..5 {
            queue.push_with(error, 0, Priority::Critical).unwrap();
        }
        // Five errors queued, and still two transactions fit, as in an empty queue.
        assert_eq!(
            queue.push_with(10, 0, Priority::Medium).unwrap(),
            Vec::<u32>::new()
        );
        assert_eq!(
            queue.push_with(11, 0, Priority::Medium).unwrap(),
            Vec::<u32>::new()
        );
        assert!(matches!(
            queue.push_with(12, 0, Priority::Medium),
            Err(PushError::Full(12))
        ));
        assert_eq!(queue.close(None), [0, 1, 2, 3, 4, 10, 11]);
    }

    #[test]
    fn shedding_frees_enough_bytes_or_refuses_without_shedding() {
        let queue = Queue::new(10, 100);
        queue.push_with(1, 30, Priority::Low).unwrap();
        queue.push_with(2, 30, Priority::Low).unwrap();
        queue.push_with(3, 30, Priority::High).unwrap();
        // 50 more bytes: both logs (60 bytes) make room.
        assert_eq!(queue.push_with(4, 50, Priority::Critical).unwrap(), [1, 2]);
        // 90 more would need the check-in's bytes too: refused, and nothing was shed.
        assert!(matches!(
            queue.push_with(5, 90, Priority::Medium),
            Err(PushError::Full(5))
        ));
        assert_eq!(queue.close(None), [4, 3]);
    }

    #[test]
    fn flush_waits_for_earlier_items_whatever_order_they_finish_in() {
        let queue = Queue::new(10, usize::MAX);
        assert!(queue.add_consumer(2));
        queue.push(1, 0).unwrap();
        queue.push(2, 0).unwrap();
        let (first, _) = take(&queue);
        let (second, _) = take(&queue);
        queue.done(second);
        queue.push(3, 0).unwrap();
        let (third, _) = take(&queue);
        queue.done(third);
        let soon = Instant::now().checked_add(Duration::from_millis(20));
        assert!(
            !queue.flush_until(soon),
            "the first item is still in flight"
        );
        queue.done(first);
        assert!(queue.flush_until(soon));
    }

    #[test]
    fn a_consumer_is_told_to_grow_only_when_work_waits_and_nobody_is_idle() {
        let queue = Queue::new(10, usize::MAX);
        queue.push(1, 0).unwrap();
        queue.push(2, 0).unwrap();
        let mut slot = 0;
        let Pop::Item { ticket, grow } = queue.pop_into(Duration::ZERO, None, &mut slot) else {
            panic!("an item");
        };
        assert!(grow, "one more waits");
        assert_eq!(slot, 1);
        // The first item is done by the pop that takes the second.
        let Pop::Item { ticket, grow } = queue.pop_into(Duration::ZERO, Some(ticket), &mut slot)
        else {
            panic!("an item");
        };
        assert!(!grow, "nothing left");
        assert_eq!(slot, 2);
        assert_eq!(
            queue.load().1,
            1,
            "the first item is done, the second in flight"
        );
        assert!(matches!(
            queue.pop_into(Duration::from_millis(5), Some(ticket), &mut slot),
            Pop::Idle
        ));
        assert_eq!(queue.load().1, 0, "done by the pop that found nothing");
        assert!(queue.flush_until(Some(Instant::now())));
    }

    #[test]
    fn consumers_are_bounded_and_retire_down_to_one() {
        let queue: Queue<u32> = Queue::new(10, usize::MAX);
        assert!(queue.add_consumer(2));
        assert!(queue.add_consumer(2));
        assert!(!queue.add_consumer(2), "at most two");
        assert!(queue.retire_idle_consumer(1));
        assert!(!queue.retire_idle_consumer(1), "the last one stays");
        let none = Instant::now().checked_add(Duration::from_millis(10));
        assert!(!queue.wait_consumers_exited(none));
        queue.close(None);
        queue.remove_consumer();
        assert!(queue.wait_consumers_exited(none));
    }
}
