//! The sections about the service itself: its resource, its bounds and hash key, and the
//! metadata its calls record.

use super::env::{Env, Var};
use super::values::{boolean, comma_list, pairs, size, Pairs};
use super::{
    ConfigError, HashKeySource, LimitsConfig, MetadataConfig, Secret, HASH_KEY_FILE_VARIABLE,
};
use crate::call_filter::CallFilter;

/// `OTEL_SERVICE_NAME` (or the `service.name` attribute) and the other resource attributes.
pub(super) fn resource(env: &Env) -> Result<(Option<String>, Pairs), ConfigError> {
    let mut attributes =
        env.read("OTEL_RESOURCE_ATTRIBUTES", pairs)?
            .or_default(env, Vec::new(), |_| "none".to_owned());
    let mut attribute_name = None;
    attributes.retain(|(key, value)| {
        let is_name = key == "service.name";
        if is_name {
            attribute_name = Some(value.clone());
        }
        !is_name
    });
    let service_name = env
        .var("OTEL_SERVICE_NAME")
        .map(|var| var.value)
        .or(attribute_name);
    Ok((service_name, attributes))
}

/// The span bounds, where the hash key comes from, and the public endpoints. Both hash key
/// variables set is an error even when lenient: which one holds the key every service
/// shares is unclear.
pub(super) fn limits(env: &Env) -> Result<LimitsConfig, ConfigError> {
    let some_size = |var: &Var| size(var).map(Some);
    let core_default = |_: &Option<usize>| "the default of tonic-traced".to_owned();
    let attribute_value_length = env
        .read("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", some_size)?
        .or_read(env, "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", some_size)?
        .or_default(env, None, core_default);
    let messages_per_rpc = env
        .read("TONIC_TRACED_MAX_MESSAGES_PER_RPC", some_size)?
        .or_default(env, None, core_default);
    let hash_key = match (
        env.var("TONIC_TRACED_HASH_KEY"),
        env.var(HASH_KEY_FILE_VARIABLE),
    ) {
        (Some(_), Some(file)) => {
            return Err(file.error("is set as well as TONIC_TRACED_HASH_KEY; set one of them"))
        }
        (Some(key), None) => Some(HashKeySource::Value(Secret(key.value.into_bytes()))),
        (None, Some(file)) => Some(HashKeySource::File(file.value.into())),
        (None, None) => None,
    };
    Ok(LimitsConfig {
        attribute_value_length,
        messages_per_rpc: messages_per_rpc.map(|count| count as u64),
        hash_key,
        public_endpoints: env
            .var("TONIC_TRACED_PUBLIC_ENDPOINTS")
            .map(|var| comma_list(&var.value))
            .unwrap_or_default(),
    })
}

/// `TONIC_TRACED_SKIP_METHODS`: the methods whose calls are not traced, each checked.
pub(super) fn skip_methods(env: &Env) -> Result<Vec<String>, ConfigError> {
    let patterns = |var: &Var| {
        let patterns = comma_list(&var.value);
        CallFilter::default()
            .skip_methods(&patterns)
            .map_err(|bad| var.error(bad))?;
        Ok(patterns)
    };
    Ok(env
        .read("TONIC_TRACED_SKIP_METHODS", patterns)?
        .or_default(env, Vec::new(), |_| "none".to_owned()))
}

/// The metadata keys to capture, each side and way.
pub(super) fn metadata(env: &Env) -> Result<MetadataConfig, ConfigError> {
    let keys = |name: &'static str| {
        env.var(name)
            .map(|var| comma_list(&var.value))
            .unwrap_or_default()
    };
    Ok(MetadataConfig {
        server_request: keys("OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_SERVER_REQUEST"),
        server_response: keys("OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_SERVER_RESPONSE"),
        client_request: keys("OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_CLIENT_REQUEST"),
        client_response: keys("OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_CLIENT_RESPONSE"),
        sensitive: env
            .read("TONIC_TRACED_CAPTURE_SENSITIVE_METADATA", boolean)?
            .or_default(env, false, bool::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;

    #[test]
    fn service_name_and_resource_attributes() {
        let config = ok(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=prod, service.version = 1.2 ,team=a%2Cb%3Dc%20d",
        )]);
        assert_eq!(config.service_name, None);
        assert_eq!(
            config.resource_attributes,
            strings(&[
                ("deployment.environment", "prod"),
                ("service.version", "1.2"),
                ("team", "a,b=c d"),
            ])
        );

        let from_attributes = ok(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=payments%20api,host.name=h1",
        )]);
        assert_eq!(
            from_attributes.service_name.as_deref(),
            Some("payments api")
        );
        assert_eq!(
            from_attributes.resource_attributes,
            strings(&[("host.name", "h1")])
        );

        let both = ok(&[
            ("OTEL_SERVICE_NAME", "checkout"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=payments,k=v"),
        ]);
        assert_eq!(both.service_name.as_deref(), Some("checkout"));
        assert_eq!(both.resource_attributes, strings(&[("k", "v")]));

        let encoded_key = ok(&[("OTEL_RESOURCE_ATTRIBUTES", "a%3Db=%E2%82%AC,empty=")]);
        assert_eq!(
            encoded_key.resource_attributes,
            strings(&[("a=b", "€"), ("empty", "")])
        );
    }

    #[test]
    fn blank_service_name_falls_back() {
        // Any non-empty name is valid; an empty or blank one counts as unset, so the
        // `service.name` attribute, else the code's default, else `unknown_service` applies.
        for blank in ["", "   "] {
            let config = ok(&[
                ("OTEL_SERVICE_NAME", blank),
                ("OTEL_RESOURCE_ATTRIBUTES", "service.name=payments"),
            ]);
            assert_eq!(config.service_name.as_deref(), Some("payments"));
            assert_eq!(ok(&[("OTEL_SERVICE_NAME", blank)]).service_name, None);
        }
        assert_eq!(
            ok(&[("OTEL_SERVICE_NAME", " checkout api ")])
                .service_name
                .as_deref(),
            Some("checkout api")
        );
    }

    #[test]
    fn bad_resource_attributes() {
        let error = |value| error(&[("OTEL_RESOURCE_ATTRIBUTES", value)]);
        assert_eq!(
            error("a=1,b"),
            r#"OTEL_RESOURCE_ATTRIBUTES="a=1,b" has an entry without "="; use key=value pairs separated by commas"#
        );
        assert_eq!(
            error("a=1,"),
            r#"OTEL_RESOURCE_ATTRIBUTES="a=1," has an entry without "="; use key=value pairs separated by commas"#
        );
        assert_eq!(
            error(" =1"),
            r#"OTEL_RESOURCE_ATTRIBUTES="=1" has an entry with an empty key; use key=value pairs separated by commas"#
        );
        assert_eq!(
            error("a=50%"),
            r#"OTEL_RESOURCE_ATTRIBUTES="a=50%" has a value for "a" that is not percent-encoded; write special characters as %XX, two hex digits per UTF-8 byte"#
        );
        assert_eq!(
            error("a=%ff"),
            r#"OTEL_RESOURCE_ATTRIBUTES="a=%ff" has a value for "a" that is not percent-encoded; write special characters as %XX, two hex digits per UTF-8 byte"#
        );
        assert_eq!(
            error("%zz=1"),
            r#"OTEL_RESOURCE_ATTRIBUTES="%zz=1" has a key that is not percent-encoded; write special characters as %XX, two hex digits per UTF-8 byte"#
        );
    }

    #[test]
    fn skipped_methods_are_checked() {
        let listed = "grpc.health.v1.Health/*, shop.Cart/Ping";
        assert_eq!(
            ok(&[("TONIC_TRACED_SKIP_METHODS", listed)]).skip_methods,
            ["grpc.health.v1.Health/*", "shop.Cart/Ping"]
        );
        assert!(ok(&[]).skip_methods.is_empty());
        let bad = [(
            "TONIC_TRACED_SKIP_METHODS",
            "shop.Cart/Ping,grpc.health.v1.Health",
        )];
        assert_eq!(
            error(&bad),
            "TONIC_TRACED_SKIP_METHODS=\"shop.Cart/Ping,grpc.health.v1.Health\" \
             \"grpc.health.v1.Health\" names no method; write package.Service/Method, or \
             package.Service/* for all of a service's methods"
        );
        let ignored = lenient(&bad);
        assert!(
            ignored.skip_methods.is_empty(),
            "a bad list is ignored whole"
        );
        assert_eq!(ignored.warnings.len(), 1, "{:?}", ignored.warnings);
    }

    #[test]
    fn limits_hash_key_and_public_endpoints() {
        let limits = |vars: &[(&str, &str)]| ok(vars).limits;
        assert_eq!(
            limits(&[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "64")]).attribute_value_length,
            Some(64)
        );
        assert_eq!(
            limits(&[
                ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "64"),
                ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "32"),
            ])
            .attribute_value_length,
            Some(32),
            "the span limit wins"
        );
        assert_eq!(
            limits(&[("TONIC_TRACED_MAX_MESSAGES_PER_RPC", "10")]).messages_per_rpc,
            Some(10)
        );
        assert_eq!(
            limits(&[("TONIC_TRACED_HASH_KEY", "s3cret")]).hash_key,
            Some(HashKeySource::Value(Secret(b"s3cret".to_vec())))
        );
        assert_eq!(
            format!("{:?}", Secret(b"s3cret".to_vec())),
            "Secret(hidden)"
        );
        // The file is read at setup, not here: it need not exist yet.
        assert_eq!(
            limits(&[("TONIC_TRACED_HASH_KEY_FILE", " /run/secrets/key ")]).hash_key,
            Some(HashKeySource::File("/run/secrets/key".into()))
        );
        assert_eq!(
            limits(&[(
                "TONIC_TRACED_PUBLIC_ENDPOINTS",
                "payment.PaymentService, order.OrderService"
            )])
            .public_endpoints,
            ["payment.PaymentService", "order.OrderService"]
        );
        assert_eq!(limits(&[]), LimitsConfig::default());

        for (vars, start) in [
            (
                &[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "-1")][..],
                "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT=\"-1\" is not a size",
            ),
            (
                &[("TONIC_TRACED_MAX_MESSAGES_PER_RPC", "lots")][..],
                "TONIC_TRACED_MAX_MESSAGES_PER_RPC=\"lots\" is not a size",
            ),
            (
                &[
                    ("TONIC_TRACED_HASH_KEY", "a"),
                    ("TONIC_TRACED_HASH_KEY_FILE", "/k"),
                ][..],
                "TONIC_TRACED_HASH_KEY_FILE=\"/k\" is set as well as TONIC_TRACED_HASH_KEY",
            ),
        ] {
            let error = error(vars);
            assert!(error.starts_with(start), "{error}");
        }
        // Both keys set is an error even when lenient.
        let both = &[
            ("TONIC_TRACED_HASH_KEY", "a"),
            ("TONIC_TRACED_HASH_KEY_FILE", "/k"),
        ];
        assert!(read(both, Strictness::Lenient).is_err());
    }

    #[test]
    fn metadata_to_capture() {
        let metadata = ok(&[
            (
                "OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_SERVER_REQUEST",
                "x-tenant, User-Agent",
            ),
            (
                "OTEL_INSTRUMENTATION_GRPC_CAPTURE_METADATA_CLIENT_RESPONSE",
                "x-region",
            ),
            ("TONIC_TRACED_CAPTURE_SENSITIVE_METADATA", "true"),
        ])
        .metadata;
        assert_eq!(metadata.server_request, ["x-tenant", "User-Agent"]);
        assert!(metadata.server_response.is_empty() && metadata.client_request.is_empty());
        assert_eq!(metadata.client_response, ["x-region"]);
        assert!(metadata.sensitive);
        assert_eq!(ok(&[]).metadata, MetadataConfig::default());
        let error = error(&[("TONIC_TRACED_CAPTURE_SENSITIVE_METADATA", "yes")]);
        assert!(
            error.starts_with("TONIC_TRACED_CAPTURE_SENSITIVE_METADATA=\"yes\" is not a boolean"),
            "{error}"
        );
    }
}
