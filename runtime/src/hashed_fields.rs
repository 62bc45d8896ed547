//! The registry of `HASH` fields: generated code registers each one, so that setup knows
//! whether this program can record one and so needs a hash key, and warns when it has none.

/// A proto field redacted with `HASH`, registered by the generated code of its message.
pub struct HashedField {
    /// The field's full proto name (`payment.PaymentRequest.customer_id`).
    pub full_name: &'static str,
}

inventory::collect!(HashedField);

/// The first (by name) `HASH` field compiled into this program, if any.
pub(crate) fn first() -> Option<&'static str> {
    inventory::iter::<HashedField>
        .into_iter()
        .map(|field| field.full_name)
        .min()
}

/// Warns, at setup and outside any call's trace, that the `HASH` fields of this program will
/// be hashed without a key, unless it is `keyed` or has no such field.
pub(crate) fn warn_if_unkeyed(keyed: bool) {
    let Some(field) = first().filter(|_| !keyed) else {
        return;
    };
    // Detached from whatever call may be running: the warning belongs to no trace.
    let _detached = opentelemetry::Context::new().attach();
    tracing::warn!(
        target: "tonic_traced",
        parent: None,
        "fields redacted with HASH (such as {field}) will be hashed without a key, which lets \
         anyone recover small values (ids, numbers) by hashing guesses; set \
         TONIC_TRACED_HASH_KEY or TONIC_TRACED_HASH_KEY_FILE (init()), or Config::hash_key, to \
         the same secret in every service"
    );
}
