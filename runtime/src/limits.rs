//! The bounds that keep what a caller controls from making spans and traces unbounded:
//! attribute values cut to a length, message spans and events capped per RPC.

use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, Key, KeyValue};

use crate::MessageMode;

/// Characters kept of a string attribute value when nothing else is configured: enough for any
/// id, name or error message, while a multi-megabyte field stays out of every span.
pub const DEFAULT_ATTRIBUTE_VALUE_LENGTH: usize = 1024;

/// Message spans (or events) recorded per RPC when nothing else is configured, as many as the
/// SDK keeps events per span by default.
pub const DEFAULT_MESSAGES_PER_RPC: u64 = 128;

/// The attribute of an RPC span that counts its messages left unrecorded by the cap.
const UNRECORDED_MESSAGES: &str = "tonic_traced.messages.unrecorded";

/// `value` cut to at most `limit` characters, at a character boundary, without copying it.
pub fn truncate(value: &str, limit: usize) -> &str {
    if value.len() <= limit {
        return value;
    }
    match value.char_indices().nth(limit) {
        Some((end, _)) => &value[..end],
        None => value,
    }
}

/// How many more messages one RPC may record, and how many it could not.
#[derive(Debug)]
pub(crate) struct MessageBudget {
    left: AtomicU64,
    unrecorded: AtomicU64,
}

impl MessageBudget {
    /// Adds a budget of `limit` messages to the context of a recording RPC span whose
    /// messages are recorded (`mode` not `Off`).
    pub(crate) fn attach(cx: Context, mode: MessageMode, limit: u64) -> Context {
        if mode == MessageMode::Off || !cx.span().is_recording() {
            return cx;
        }
        cx.with_value(MessageBudget {
            left: AtomicU64::new(limit),
            unrecorded: AtomicU64::new(0),
        })
    }

    /// Whether the RPC of `cx` may record one more message; counts it as unrecorded if not.
    pub(crate) fn take(cx: &Context) -> bool {
        let Some(budget) = cx.get::<MessageBudget>() else {
            return true;
        };
        let taken = budget
            .left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(1)
            })
            .is_ok();
        if !taken {
            budget.unrecorded.fetch_add(1, Ordering::Relaxed);
        }
        taken
    }

    /// The attribute counting the messages of the RPC of `cx` that the cap left out, if any.
    pub(crate) fn unrecorded(cx: &Context) -> Option<KeyValue> {
        let unrecorded = cx
            .get::<MessageBudget>()?
            .unrecorded
            .load(Ordering::Relaxed);
        (unrecorded > 0)
            .then(|| KeyValue::new(Key::from_static_str(UNRECORDED_MESSAGES), unrecorded as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_at_character_boundaries() {
        assert_eq!(truncate("EUR", 3), "EUR");
        assert_eq!(truncate("EURO", 3), "EUR");
        assert_eq!(truncate("", 0), "");
        assert_eq!(truncate("abc", 0), "");
        // Three characters of two, three and four bytes: cut after the second.
        assert_eq!(truncate("é€😀", 2), "é€");
        assert_eq!(truncate("é€😀", 3), "é€😀");
        assert_eq!(truncate(&"x".repeat(5_000_000), 1024).len(), 1024);
    }
}
