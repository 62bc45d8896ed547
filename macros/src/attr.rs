//! Reads the options of `#[traced_service(...)]` and `#[traced(...)]` as written, and what a
//! valid option means. Reading judges nothing: `valid.rs` rejects what is wrong.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, Lit, LitInt, LitStr, Meta, Path, Token};

/// `messages = spans | events | off`.
#[derive(Clone, Copy)]
pub(crate) enum Messages {
    Spans,
    Events,
    Off,
}

impl Messages {
    /// The mode a `messages = …` value names, if it names one.
    pub(crate) fn from_value(value: &Expr) -> Option<Self> {
        let Expr::Path(path) = value else {
            return None;
        };
        match path.path.get_ident()?.to_string().as_str() {
            "spans" => Some(Messages::Spans),
            "events" => Some(Messages::Events),
            "off" => Some(Messages::Off),
            _ => None,
        }
    }
}

/// Reads `option, option = value, …`, the list of `#[traced_service(...)]` or `#[traced(...)]`.
pub(crate) fn read_options(tokens: TokenStream) -> syn::Result<Vec<Meta>> {
    let options = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens)?;
    Ok(options.into_iter().collect())
}

/// A `#[traced]` attribute of a method, with the options it lists.
pub(crate) struct TracedAttr {
    pub(crate) attr: Attribute,
    /// The options in `#[traced(...)]`; none for a bare `#[traced]`.
    pub(crate) options: syn::Result<Vec<Meta>>,
}

impl TracedAttr {
    pub(crate) fn read(attr: &Attribute) -> Self {
        let options = match &attr.meta {
            Meta::List(list) => read_options(list.tokens.clone()),
            Meta::Path(_) | Meta::NameValue(_) => Ok(Vec::new()),
        };
        TracedAttr {
            attr: attr.clone(),
            options,
        }
    }
}

/// Whether an attribute is `#[traced]` or `#[traced(...)]`, under any path ending in `traced`.
pub(crate) fn is_traced(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "traced")
}

/// Whether an attribute is `#[instrument]` of `tracing`, under any path ending in `instrument`.
pub(crate) fn is_instrument(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "instrument")
}

/// The value of `name = value`.
pub(crate) fn value(option: &Meta) -> Option<&Expr> {
    match option {
        Meta::NameValue(option) => Some(&option.value),
        Meta::Path(_) | Meta::List(_) => None,
    }
}

/// A string literal value.
pub(crate) fn string(value: &Expr) -> Option<&LitStr> {
    match value {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(string),
            ..
        }) => Some(string),
        _ => None,
    }
}

/// A path value, such as `is_error = path::to::fn`.
pub(crate) fn path(value: &Expr) -> Option<&Path> {
    match value {
        Expr::Path(path) if path.qself.is_none() => Some(&path.path),
        _ => None,
    }
}

/// A whole number above zero that fits a `u64`, as `max_messages = 100` gives it.
pub(crate) fn positive_int(value: &Expr) -> Option<&LitInt> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) if int.base10_parse::<u64>().is_ok_and(|n| n > 0) => Some(int),
        _ => None,
    }
}

/// The runtime crate named by `crate = "…"`.
pub(crate) fn crate_path(value: &Expr) -> Option<Path> {
    string(value)?.parse().ok()
}

/// Options of the whole impl, as far as they are valid.
#[derive(Default)]
pub(crate) struct ServiceOptions {
    pub(crate) messages: Option<Messages>,
    /// `max_messages = N`: message spans or events recorded per RPC.
    pub(crate) max_messages: Option<LitInt>,
    pub(crate) public_endpoint: bool,
    pub(crate) service_name: Option<LitStr>,
    pub(crate) is_error: Option<Path>,
    /// Where the runtime crate is, when it is not `::tonic_traced` (renamed or re-exported).
    pub(crate) runtime: Option<Path>,
}

impl ServiceOptions {
    /// What `options` ask for; of an option given twice, the first counts.
    pub(crate) fn read(options: &[Meta]) -> Self {
        let mut read = ServiceOptions::default();
        for option in options {
            let name = option.path();
            let value = value(option);
            if name.is_ident("messages") {
                read.messages = read.messages.or(value.and_then(Messages::from_value));
            } else if name.is_ident("max_messages") {
                read.max_messages = read.max_messages.or(value.and_then(positive_int).cloned());
            } else if name.is_ident("public_endpoint") {
                read.public_endpoint = true;
            } else if name.is_ident("service_name") {
                read.service_name = read.service_name.or(value.and_then(string).cloned());
            } else if name.is_ident("is_error") {
                read.is_error = read.is_error.or(value.and_then(path).cloned());
            } else if name.is_ident("crate") {
                read.runtime = read.runtime.or(value.and_then(crate_path));
            }
        }
        read
    }
}

/// Options of one method, as far as they are valid.
#[derive(Default)]
pub(crate) struct MethodOptions {
    pub(crate) skip: bool,
    pub(crate) messages: Option<Messages>,
    pub(crate) max_messages: Option<LitInt>,
}

impl MethodOptions {
    /// What the method's `#[traced(...)]` attributes ask for, all together.
    pub(crate) fn read(attrs: &[TracedAttr]) -> Self {
        let mut read = MethodOptions::default();
        let options = attrs
            .iter()
            .filter_map(|attr| attr.options.as_ref().ok())
            .flatten();
        for option in options {
            let name = option.path();
            if name.is_ident("skip") {
                read.skip = true;
            } else if name.is_ident("messages") {
                read.messages = read
                    .messages
                    .or(value(option).and_then(Messages::from_value));
            } else if name.is_ident("max_messages") {
                read.max_messages = read
                    .max_messages
                    .or(value(option).and_then(positive_int).cloned());
            }
        }
        read
    }
}
