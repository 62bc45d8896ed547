//! Which fields become span attributes: read from the proto options and from `build.rs`,
//! then checked so a mistake fails the build with the file, the field and the fix.

use std::collections::{BTreeMap, HashMap};

use prost_reflect::{DescriptorPool, ExtensionDescriptor, FieldDescriptor, FileDescriptor, Value};

use crate::descriptors::{all_messages, shape, Shape, ValueKind};
use crate::trace_proto::{ATTRIBUTE_OPTION, FIELD_OPTION};
use crate::Error;

/// How an annotated value appears on the span, as `redact:` in `(tonic_traced.field)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Redact {
    /// The value itself: enums by name, bytes by length, repeated and map fields by count.
    None,
    /// A stable hash (first 64 bits of SHA-256, hex). For string and bytes fields.
    Hash,
    /// The length in bytes. For string and bytes fields.
    Length,
    /// Whether the field is set: present, non-empty or non-default. For any field.
    Present,
}

impl Redact {
    /// The mode as written in a proto, for error messages.
    fn proto_name(self) -> &'static str {
        match self {
            Redact::None => "NONE",
            Redact::Hash => "HASH",
            Redact::Length => "LENGTH",
            Redact::Present => "PRESENT",
        }
    }
}

/// One field that becomes a span attribute.
#[derive(Debug, Clone)]
pub(crate) struct Annotation {
    pub(crate) key: String,
    pub(crate) redact: Redact,
    /// `max_length`: characters kept of a string value; `None` when unset or 0.
    pub(crate) max_length: Option<u32>,
}

/// An annotation made in `build.rs`, for protos the user cannot edit.
#[derive(Debug, Clone)]
pub(crate) struct BuilderAnnotation {
    pub(crate) field: String,
    pub(crate) annotation: Annotation,
}

/// Annotations by full field name (`payment.PaymentRequest.amount`).
pub(crate) type Annotations = HashMap<String, Annotation>;

/// Reads and checks every annotation of `files`; all problems are reported together.
pub(crate) fn collect(
    pool: &DescriptorPool,
    files: &[FileDescriptor],
    from_builder: &[BuilderAnnotation],
) -> Result<Annotations, Error> {
    let options = OptionExtensions {
        attribute: pool.get_extension_by_name(ATTRIBUTE_OPTION),
        field: pool.get_extension_by_name(FIELD_OPTION),
    };
    let mut problems = Vec::new();
    let mut annotations = Annotations::new();
    let mut annotated_fields = Vec::new();

    for file in files {
        for message in all_messages(file) {
            for field in message.fields() {
                match options.read(&field) {
                    Ok(Some(annotation)) => {
                        annotations.insert(field.full_name().to_owned(), annotation);
                        annotated_fields.push(field);
                    }
                    Ok(None) => {}
                    Err(problem) => problems.push(at_field(&field, &problem)),
                }
            }
        }
    }

    for annotation in from_builder {
        let field_name = annotation.field.trim_start_matches('.');
        match find_field(pool, field_name) {
            Err(problem) => problems.push(format!(
                "build.rs annotation of `{}`: {problem}",
                annotation.field
            )),
            Ok(field) if annotations.contains_key(field_name) => problems.push(at_field(
                &field,
                "is annotated both in the proto and in build.rs; keep one of the two",
            )),
            Ok(field) => {
                annotations.insert(field_name.to_owned(), annotation.annotation.clone());
                annotated_fields.push(field);
            }
        }
    }

    for field in &annotated_fields {
        let annotation = &annotations[field.full_name()];
        if let Err(problem) = check_key(&annotation.key) {
            problems.push(at_field(field, &problem));
        }
        if let Err(problem) = check_max_length(field, annotation) {
            problems.push(at_field(field, &problem));
        }
        if let Err(problem) = check_redact(field, annotation.redact) {
            problems.push(at_field(field, &problem));
        }
    }
    problems.extend(duplicate_keys(&annotated_fields, &annotations));
    problems.extend(conflicting_redactions(&annotated_fields, &annotations));

    if problems.is_empty() {
        Ok(annotations)
    } else {
        Err(Error::from_problems(problems))
    }
}

/// `payment.proto: field `payment.PaymentRequest.amount` <problem>`.
fn at_field(field: &FieldDescriptor, problem: &str) -> String {
    format!(
        "{}: field `{}` {problem}",
        field.parent_file().name(),
        field.full_name()
    )
}

/// The two extensions of `google.protobuf.FieldOptions` declared in `trace.proto`; absent when
/// no compiled file imports it.
struct OptionExtensions {
    attribute: Option<ExtensionDescriptor>,
    field: Option<ExtensionDescriptor>,
}

impl OptionExtensions {
    fn read(&self, field: &FieldDescriptor) -> Result<Option<Annotation>, String> {
        let options = field.options();
        let set = |ext: &Option<ExtensionDescriptor>| {
            ext.as_ref()
                .filter(|ext| options.has_extension(ext))
                .map(|ext| options.get_extension(ext).into_owned())
        };
        match (set(&self.attribute), set(&self.field)) {
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(
                "has both (tonic_traced.attribute) and (tonic_traced.field); \
                 keep one: the short form for a plain value, the field form to redact"
                    .into(),
            ),
            (Some(Value::String(key)), None) => Ok(Some(Annotation {
                key,
                redact: Redact::None,
                max_length: None,
            })),
            (None, Some(Value::Message(field_option))) => {
                let key = match field_option.get_field_by_name("name").as_deref() {
                    Some(Value::String(key)) => key.clone(),
                    _ => String::new(),
                };
                let redact = match field_option.get_field_by_name("redact").as_deref() {
                    Some(Value::EnumNumber(number)) => redact_from_number(*number)?,
                    _ => Redact::None,
                };
                let max_length = match field_option.get_field_by_name("max_length").as_deref() {
                    Some(Value::U32(length)) if *length > 0 => Some(*length),
                    _ => None,
                };
                Ok(Some(Annotation {
                    key,
                    redact,
                    max_length,
                }))
            }
            _ => Err("has a tonic_traced option of an unexpected type; \
                 import tonic_traced/trace.proto instead of declaring the options yourself"
                .into()),
        }
    }
}

fn redact_from_number(number: i32) -> Result<Redact, String> {
    match number {
        0 => Ok(Redact::None),
        1 => Ok(Redact::Hash),
        2 => Ok(Redact::Length),
        3 => Ok(Redact::Present),
        other => Err(format!(
            "has redact value {other}, which is not a mode; use NONE, HASH, LENGTH or PRESENT"
        )),
    }
}

/// Finds `package.Message.field` in the compiled protos.
fn find_field(pool: &DescriptorPool, full_name: &str) -> Result<FieldDescriptor, String> {
    let Some((message_name, field_name)) = full_name.rsplit_once('.') else {
        return Err("is not a field path; write `package.Message.field`".into());
    };
    let message = pool.get_message_by_name(message_name).ok_or_else(|| {
        format!("names no field: there is no message `{message_name}` in the compiled protos")
    })?;
    message.get_field_by_name(field_name).ok_or_else(|| {
        let fields: Vec<String> = message.fields().map(|f| f.name().to_owned()).collect();
        format!(
            "names no field: message `{message_name}` has no field `{field_name}` (its fields: {})",
            fields.join(", ")
        )
    })
}

/// Attribute keys are dotted names such as `payment.amount`.
fn check_key(key: &str) -> Result<(), String> {
    const EXAMPLE: &str = "write a dotted name such as \"payment.amount\"";
    if key.is_empty() {
        return Err(format!("has an empty attribute key; {EXAMPLE}"));
    }
    if key.len() > 255 {
        return Err(format!(
            "has an attribute key of {} bytes; keep it under 256",
            key.len()
        ));
    }
    let valid_chars = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !valid_chars || key.split('.').any(str::is_empty) {
        return Err(format!(
            "has attribute key {key:?}, which is not a valid attribute name: use letters, \
             digits, '_' and '-' in parts joined by single dots; {EXAMPLE}"
        ));
    }
    Ok(())
}

/// `max_length` applies to a singular string field recorded as it is.
fn check_max_length(field: &FieldDescriptor, annotation: &Annotation) -> Result<(), String> {
    let Some(length) = annotation.max_length else {
        return Ok(());
    };
    let is_string = matches!(shape(field), Shape::Single(ValueKind::String));
    if is_string && annotation.redact == Redact::None {
        return Ok(());
    }
    Err(format!(
        "has max_length: {length}, which applies to string fields recorded as they are \
         (redact: NONE); remove it"
    ))
}

/// Which redaction modes fit which field kinds.
fn check_redact(field: &FieldDescriptor, redact: Redact) -> Result<(), String> {
    let mode = match redact {
        Redact::None | Redact::Present => None,
        Redact::Hash => Some("HASH"),
        Redact::Length => Some("LENGTH"),
    };
    match shape(field) {
        Shape::Collection => match mode {
            None => Ok(()),
            Some(mode) => Err(format!(
                "is a repeated or map field, recorded as its element count; {mode} applies to \
                 string and bytes fields: remove it, or use redact: PRESENT"
            )),
        },
        Shape::Single(ValueKind::Message(message)) if redact != Redact::Present => Err(format!(
            "is the message `{}`, which has no single value to record; annotate the fields \
             inside `{}` instead (they are recorded when reached through this field), or use \
             redact: PRESENT to record whether it is set",
            message.full_name(),
            message.full_name()
        )),
        Shape::Single(ValueKind::String | ValueKind::Bytes) => Ok(()),
        Shape::Single(kind) => match mode {
            None => Ok(()),
            Some(mode) => Err(format!(
                "is {}; {mode} applies to string and bytes fields: remove it, or use \
                 redact: PRESENT",
                kind.proto_name()
            )),
        },
    }
}

/// Two fields of one message must not record the same key.
fn duplicate_keys(fields: &[FieldDescriptor], annotations: &Annotations) -> Vec<String> {
    let mut first_by_key: HashMap<(String, &str), &FieldDescriptor> = HashMap::new();
    let mut problems = Vec::new();
    for field in fields {
        let key = annotations[field.full_name()].key.as_str();
        let message = field.parent_message().full_name().to_owned();
        if let Some(first) = first_by_key.insert((message.clone(), key), field) {
            problems.push(format!(
                "{}: fields `{}` and `{}` of message `{message}` both record attribute {key:?}; \
                 give each its own key",
                field.parent_file().name(),
                first.name(),
                field.name()
            ));
        }
    }
    problems
}

/// One key has one redaction in all the protos compiled together: a key that is hashed in
/// one message must not appear in plain text (or as a length) from another.
fn conflicting_redactions(fields: &[FieldDescriptor], annotations: &Annotations) -> Vec<String> {
    // By key: each redaction used, with its fields, in the order first seen.
    let mut by_key: BTreeMap<&str, Vec<(Redact, Vec<&FieldDescriptor>)>> = BTreeMap::new();
    for field in fields {
        let annotation = &annotations[field.full_name()];
        let redactions = by_key.entry(annotation.key.as_str()).or_default();
        match redactions
            .iter_mut()
            .find(|(redact, _)| *redact == annotation.redact)
        {
            Some((_, same)) => same.push(field),
            None => redactions.push((annotation.redact, vec![field])),
        }
    }
    by_key
        .into_iter()
        .filter(|(_, redactions)| redactions.len() > 1)
        .map(|(key, redactions)| {
            let uses: Vec<String> = redactions
                .iter()
                .map(|(redact, fields)| {
                    let fields: Vec<String> = fields
                        .iter()
                        .map(|field| {
                            format!("`{}` ({})", field.full_name(), field.parent_file().name())
                        })
                        .collect();
                    format!("{} on {}", redact.proto_name(), fields.join(", "))
                })
                .collect();
            format!(
                "attribute {key:?} is recorded with different redactions: {}; give every field \
                 recording {key:?} the same redact mode, or give these fields different keys",
                uses.join("; ")
            )
        })
        .collect()
}
