//! The registry of `HASH` fields: generated code registers each one, so that setup knows
//! whether this program can record one and so needs a hash key.

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
