//! The bounds that keep what a caller controls from making spans and traces unbounded:
//! attribute values cut to a length, message spans and events capped per RPC (counted by
//! each RPC's [`Messages`](crate::messages::Messages)).

/// Characters kept of a string attribute value when nothing else is configured: enough for any
/// id, name or error message, while a multi-megabyte field stays out of every span.
pub const DEFAULT_ATTRIBUTE_VALUE_LENGTH: usize = 1024;

/// Message spans (or events) recorded per RPC when nothing else is configured, as many as the
/// SDK keeps events per span by default.
pub const DEFAULT_MESSAGES_PER_RPC: u64 = 128;

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
