//! Envelopes made outside the export module (the `sentry` crate's events, logs, sessions,
//! check-ins, attachments): queued as they are and written to bytes on a sender, never on the
//! thread that captured them.

use std::fmt;
use std::sync::Arc;

use crate::export::wire::category::{DataCategory, Priority};
use crate::propagation::DynamicSamplingContext;

/// An envelope that writes itself to bytes on a sender.
pub(crate) trait ExternalEnvelope: Send + 'static {
    /// Writes the envelope (header line and items) into `out`, without the items whose
    /// category `keep` refuses; returns the quantities of the items left out.
    ///
    /// # Errors
    ///
    /// When the envelope cannot be written; nothing of it is sent then.
    fn write(
        self: Box<Self>,
        keep: &mut dyn FnMut(DataCategory) -> bool,
        out: &mut Vec<u8>,
    ) -> std::io::Result<Quantities>;
}

/// The quantities of an envelope's items per data category, as client reports count them (an
/// event is one `error`, a log container one `log_item` per record, an attachment its bytes in
/// `attachment`), and the number of items.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Quantities {
    counts: [u64; DataCategory::COUNT],
    items: u64,
}

impl Quantities {
    /// Adds one item counted as `quantity` in `category` (and, for a transaction, `spans` in
    /// `span`: see [`add_to`](Self::add_to)).
    pub(crate) fn add_item(&mut self, category: DataCategory, quantity: u64) {
        self.items = self.items.saturating_add(1);
        self.add_to(category, quantity);
    }

    /// Adds `quantity` in `category` without counting an item (the spans of a transaction).
    pub(crate) fn add_to(&mut self, category: DataCategory, quantity: u64) {
        if let Some(slot) = self.counts.get_mut(category.index()) {
            *slot = slot.saturating_add(quantity);
        }
    }

    /// The number of items.
    pub(crate) fn items(&self) -> u64 {
        self.items
    }

    /// Whether no item is counted.
    pub(crate) fn is_empty(&self) -> bool {
        self.items == 0
    }

    /// The categories with a quantity, and their quantity.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (DataCategory, u64)> + '_ {
        DataCategory::ALL
            .into_iter()
            .zip(self.counts)
            .filter(|(_, n)| *n > 0)
    }

    /// What is left when `other` (a part of these) is taken away.
    pub(crate) fn without(&self, other: &Quantities) -> Quantities {
        let mut left = *self;
        for (slot, taken) in left.counts.iter_mut().zip(other.counts) {
            *slot = slot.saturating_sub(taken);
        }
        left.items = left.items.saturating_sub(other.items);
        left
    }

    /// The category of the highest priority among these (the envelope's "main" category).
    pub(crate) fn main_category(&self) -> Option<DataCategory> {
        self.iter()
            .map(|(category, _)| category)
            .max_by_key(|category| category.priority())
    }

    /// The priority of the envelope: its highest item's. An envelope whose items are not
    /// known (a raw one) is treated as an error.
    pub(crate) fn priority(&self) -> Priority {
        self.main_category()
            .map_or(Priority::Critical, DataCategory::priority)
    }
}

/// An external envelope with what the queue and the accounting need to know about it.
pub(crate) struct External {
    pub(crate) envelope: Box<dyn ExternalEnvelope>,
    /// Its items, counted when it was queued.
    pub(crate) quantities: Quantities,
    /// About its serialised size, estimated without serialising.
    pub(crate) weight: usize,
    /// The `trace` header to add on the sender (the trace's frozen DSC), if any.
    pub(crate) dsc: Option<Arc<DynamicSamplingContext>>,
}

impl fmt::Debug for External {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("External")
            .field("quantities", &self.quantities)
            .field("weight", &self.weight)
            .field("trace", &self.dsc.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_priority_is_the_highest_items_and_quantities_subtract() {
        let mut q = Quantities::default();
        q.add_item(DataCategory::LogItem, 40);
        assert_eq!(q.priority(), Priority::Low);
        q.add_item(DataCategory::Error, 1);
        assert_eq!(q.main_category(), Some(DataCategory::Error));
        assert_eq!(q.priority(), Priority::Critical);
        assert_eq!(q.items(), 2);
        let mut logs = Quantities::default();
        logs.add_item(DataCategory::LogItem, 40);
        let left = q.without(&logs);
        assert_eq!(left.iter().collect::<Vec<_>>(), [(DataCategory::Error, 1)]);
        assert_eq!(left.items(), 1);
        assert_eq!(Quantities::default().priority(), Priority::Critical);
    }
}
