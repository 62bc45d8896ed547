//! Rejects misuse of `#[traced_service]` and `#[traced]`, each error at the offending tokens and
//! saying what to write instead. Every error is recorded, so all are reported at once.

use proc_macro2::TokenStream;
use syn::visit::Visit;
use syn::{FnArg, Ident, ImplItem, Item, ItemImpl, Meta, Pat, ReturnType, Type};

use crate::ast::{Input, Method, Service, Shape, Stream, Target, Written};
use crate::attr::{crate_path, path, positive_int, string, value, Messages, TracedAttr};
use crate::ctxt::Ctxt;

const SERVICE_OPTIONS: &str = "messages = spans | events | off, max_messages = 128, \
     public_endpoint, service_name = \"…\", is_error = path::to::fn, \
     crate = \"path::to::tonic_traced\"";
const METHOD_OPTIONS: &str = "skip, messages = spans | events | off, max_messages = 128";
const MAX_MESSAGES: &str = "max_messages takes a whole number above zero, the message spans or \
     events recorded per call, e.g. max_messages = 1000";
const MESSAGE_MODES: &str =
    "unknown message mode; write messages = spans, messages = events or messages = off";

/// Checks the attribute's options and the item it is on.
pub(crate) fn check(input: &Input, cx: &Ctxt) {
    match &input.options {
        Ok(options) => check_service_options(options, cx),
        Err(error) => cx.syn_error(error.clone()),
    }
    match &input.target {
        Target::Impl(service) => check_service(service, cx),
        Target::Other(item) => not_an_impl(item, cx),
    }
}

fn check_service_options(options: &[Meta], cx: &Ctxt) {
    let mut seen = Vec::new();
    for option in options {
        let name = option.path();
        let known = [
            "messages",
            "max_messages",
            "public_endpoint",
            "service_name",
            "is_error",
            "crate",
        ]
        .into_iter()
        .find(|known| name.is_ident(known));
        let Some(known) = known else {
            cx.error_spanned_by(
                name,
                format!("unknown #[traced_service] option; expected one of: {SERVICE_OPTIONS}"),
            );
            continue;
        };
        once(&mut seen, known, option, cx);
        match known {
            "messages" => check_messages(option, cx),
            "max_messages" => check_max_messages(option, cx),
            "public_endpoint" => flag(option, cx),
            "service_name" => match value(option).map(|value| (value, string(value))) {
                Some((_, Some(name))) if name.value().is_empty() => cx.error_spanned_by(
                    name,
                    "service_name must not be empty; write the name spans should carry, \
                     e.g. service_name = \"payment.Payments\", or remove the option",
                ),
                Some((_, Some(_))) => {}
                Some((value, None)) => cx.error_spanned_by(value, SERVICE_NAME),
                None => cx.error_spanned_by(option, SERVICE_NAME),
            },
            "is_error" => match value(option) {
                Some(value) if path(value).is_some() => {}
                Some(value) => cx.error_spanned_by(value, IS_ERROR),
                None => cx.error_spanned_by(option, IS_ERROR),
            },
            _ => match value(option) {
                Some(value) if crate_path(value).is_some() => {}
                Some(value) => cx.error_spanned_by(value, CRATE),
                None => cx.error_spanned_by(option, CRATE),
            },
        }
    }
}

const SERVICE_NAME: &str = "service_name takes a string, e.g. service_name = \"payment.Payments\"";
const IS_ERROR: &str =
    "is_error takes the path of a `fn(tonic::Code) -> bool`, e.g. is_error = only_internal";
const CRATE: &str = "crate must name the tonic-traced crate as a path, e.g. \
     crate = \"::tonic_traced\" or crate = \"my_reexports::tonic_traced\"";

/// Rejects an option given a second time, at its second occurrence.
fn once(seen: &mut Vec<&'static str>, name: &'static str, option: &Meta, cx: &Ctxt) {
    if seen.contains(&name) {
        cx.error_spanned_by(option.path(), format!("`{name}` is given twice; keep one"));
    } else {
        seen.push(name);
    }
}

/// Rejects `flag = …` or `flag(…)` for an option that is a bare word.
fn flag(option: &Meta, cx: &Ctxt) {
    if !matches!(option, Meta::Path(_)) {
        let name = option.path();
        let name = quote::quote!(#name).to_string();
        cx.error_spanned_by(
            option.path(),
            format!("{name} takes no value; write just `{name}`"),
        );
    }
}

fn check_messages(option: &Meta, cx: &Ctxt) {
    match value(option) {
        Some(value) if Messages::from_value(value).is_some() => {}
        Some(value) => cx.error_spanned_by(value, MESSAGE_MODES),
        None => cx.error_spanned_by(option, MESSAGE_MODES),
    }
}

fn check_max_messages(option: &Meta, cx: &Ctxt) {
    match value(option) {
        Some(value) if positive_int(value).is_some() => {}
        Some(value) => cx.error_spanned_by(value, MAX_MESSAGES),
        None => cx.error_spanned_by(option, MAX_MESSAGES),
    }
}

/// The error for an item that is not an impl, at its keyword and name.
fn not_an_impl(item: &Item, cx: &Ctxt) {
    fn head(keyword: &dyn quote::ToTokens, name: &Ident) -> TokenStream {
        quote::quote!(#keyword #name)
    }
    let (head, what) = match item {
        Item::Fn(f) => (head(&f.sig.fn_token, &f.sig.ident), "a function"),
        Item::Struct(s) => (head(&s.struct_token, &s.ident), "a struct"),
        Item::Enum(e) => (head(&e.enum_token, &e.ident), "an enum"),
        Item::Trait(t) => (head(&t.trait_token, &t.ident), "the trait itself"),
        Item::Mod(m) => (head(&m.mod_token, &m.ident), "a module"),
        other => (quote::quote!(#other), "this item"),
    };
    cx.error_spanned_by(
        head,
        format!(
            "#[traced_service] goes on the impl of a tonic service trait, \
             e.g. `impl PaymentService for Payments {{ … }}`, not on {what}"
        ),
    );
}

fn check_service(service: &Service, cx: &Ctxt) {
    if !check_trait(&service.item, cx) {
        return;
    }
    for item in &service.item.items {
        let attrs = match item {
            ImplItem::Type(ty) => &ty.attrs,
            ImplItem::Const(constant) => &constant.attrs,
            ImplItem::Macro(mac) => &mac.attrs,
            _ => continue,
        };
        for attr in attrs.iter().filter(|attr| crate::attr::is_traced(attr)) {
            cx.error_spanned_by(attr, "#[traced] belongs on a method of this impl, not here");
        }
    }
    for method in &service.methods {
        check_traced_attrs(&method.traced, cx);
        if !method.options.skip {
            check_handler(service, method, cx);
            check_stream(service, method, cx);
        }
    }
}

/// Rejects a streaming handler whose return type hides where the stream is. A stream type
/// spelled out (`Response<UpdateStream>`) is checked by the compiler, in the expansion.
fn check_stream(service: &Service, method: &Method, cx: &Ctxt) {
    let Some(Stream {
        name,
        written: Written::Hidden,
    }) = &method.stream
    else {
        return;
    };
    let output = &service.method_fn(method).sig.output;
    let ReturnType::Type(_, ty) = output else {
        return;
    };
    cx.error_spanned_by(
        future_output(ty).unwrap_or(ty),
        format!(
            "cannot find the response stream in this return type: spell out `Response<…>`, \
             or name the stream `Self::{name}`, e.g. `Result<Response<Self::{name}>, Status>`"
        ),
    );
}

/// `T` in `Future<Output = T>`, where a method returning a future declares its output.
fn future_output(ty: &Type) -> Option<&Type> {
    struct FindOutput<'ast> {
        found: Option<&'ast Type>,
    }
    impl<'ast> Visit<'ast> for FindOutput<'ast> {
        fn visit_assoc_type(&mut self, binding: &'ast syn::AssocType) {
            if binding.ident == "Output" {
                self.found = Some(&binding.ty);
            }
        }
    }
    let mut finder = FindOutput { found: None };
    finder.visit_type(ty);
    finder.found
}

/// Whether the impl is of a trait; rejects inherent and negative impls.
fn check_trait(item: &ItemImpl, cx: &Ctxt) -> bool {
    match &item.trait_ {
        Some((None, _, _)) => true,
        Some((Some(bang), _, _)) => {
            cx.error_spanned_by(
                bang,
                "#[traced_service] cannot trace a negative impl; put it on `impl Service for Type`",
            );
            false
        }
        None => {
            let name = match &*item.self_ty {
                Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
                _ => None,
            };
            cx.error_spanned_by(
                &item.self_ty,
                format!(
                    "#[traced_service] needs the tonic service trait: write \
                     `impl SomeService for {}`; an inherent impl has no RPC methods",
                    name.as_deref().unwrap_or("YourType")
                ),
            );
            false
        }
    }
}

fn check_traced_attrs(attrs: &[TracedAttr], cx: &Ctxt) {
    let mut seen = Vec::new();
    for attr in attrs {
        if !matches!(attr.attr.meta, Meta::List(_)) {
            cx.error_spanned_by(
                &attr.attr,
                format!("#[traced] needs an option: #[traced({METHOD_OPTIONS})]"),
            );
        }
        let options = match &attr.options {
            Ok(options) => options,
            Err(error) => {
                cx.syn_error(error.clone());
                continue;
            }
        };
        for option in options {
            let name = option.path();
            if name.is_ident("skip") {
                conflict(&seen, "messages", option, cx);
                once(&mut seen, "skip", option, cx);
                flag(option, cx);
            } else if name.is_ident("messages") {
                conflict(&seen, "skip", option, cx);
                once(&mut seen, "messages", option, cx);
                check_messages(option, cx);
            } else if name.is_ident("max_messages") {
                conflict(&seen, "skip", option, cx);
                once(&mut seen, "max_messages", option, cx);
                check_max_messages(option, cx);
            } else {
                cx.error_spanned_by(
                    name,
                    format!("unknown #[traced] option; expected one of: {METHOD_OPTIONS}"),
                );
            }
        }
    }
}

/// Rejects `skip` with `messages`, at whichever comes second.
fn conflict(seen: &[&str], other: &str, option: &Meta, cx: &Ctxt) {
    if seen.contains(&other) {
        cx.error_spanned_by(
            option,
            "skip conflicts with messages: a skipped method has no span; keep one of the two",
        );
    }
}

/// Rejects, at the offending token, a method that cannot be a tonic handler. Only shapes that
/// are certainly wrong are rejected: a type alias may stand for `Request<…>` or a future.
fn check_handler(service: &Service, method: &Method, cx: &Ctxt) {
    let sig = &service.method_fn(method).sig;
    let message = |what: &str| {
        format!(
            "{what}: a traced method is a tonic handler, `async fn {}(&self, request: \
             Request<…>) -> Result<Response<…>, Status>`; mark other methods #[traced(skip)]",
            sig.ident
        )
    };
    let parens = sig.paren_token.span.join();
    let inputs = &sig.inputs;
    let takes_self = match inputs.first() {
        Some(FnArg::Receiver(_)) => true,
        Some(FnArg::Typed(arg)) => matches!(&*arg.pat, Pat::Ident(ident) if ident.ident == "self"),
        None => false,
    };
    if !takes_self {
        return match inputs.first() {
            Some(first) => cx.error_spanned_by(first, message("expected `&self` here")),
            None => cx.error_at(parens, message("expected `&self`")),
        };
    }
    let request = match inputs.iter().nth(1) {
        None => return cx.error_at(parens, message("expected a request parameter")),
        Some(FnArg::Typed(arg)) if certainly_not(&arg.ty, NOT_REQUEST) => {
            return cx.error_spanned_by(&arg.ty, message("expected `Request<…>` here"));
        }
        Some(FnArg::Typed(arg)) => arg,
        Some(FnArg::Receiver(receiver)) => {
            return cx.error_spanned_by(receiver, message("expected `Request<…>` here"));
        }
    };
    if inputs.len() > 2 {
        let extra = inputs.iter().skip(2);
        return cx.error_spanned_by(
            quote::quote!(#(#extra),*),
            message("a handler takes only `&self` and the request"),
        );
    }
    if let Shape::ReturnsFuture { .. } = method.shape {
        match &sig.output {
            ReturnType::Default => {
                return cx.error_at(parens, message("expected a method that returns a future"))
            }
            ReturnType::Type(_, ty) if certainly_not(ty, NOT_FUTURE) => {
                return cx.error_spanned_by(ty, message("expected `async fn`, or a future here"));
            }
            ReturnType::Type(..) => {}
        }
        if !matches!(&*request.pat, Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none())
        {
            cx.error_spanned_by(
                &request.pat,
                "name the request parameter, e.g. `request: Request<…>`, or write the method \
                 as `async fn`: #[traced_service] reads the request before the returned future \
                 runs",
            );
        }
    }
}

const PRIMITIVES: &[&str] = &[
    "bool", "char", "str", "String", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16",
    "i32", "i64", "i128", "isize", "f32", "f64",
];
/// Type names that a request parameter cannot have, besides the primitives.
const NOT_REQUEST: &[&str] = &["Option", "Vec", "Response", "Status", "Streaming"];
/// Type names that a future cannot have, besides the primitives.
const NOT_FUTURE: &[&str] = &["Result", "Option", "Vec", "Response", "Status"];

/// Whether `ty` is certainly not a `Request<…>` (or a future): a reference, tuple, array and
/// the like, or a path ending in one of `names` or a primitive.
fn certainly_not(ty: &Type, names: &[&str]) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            path.path.segments.last().is_some_and(|segment| {
                let name = segment.ident.to_string();
                PRIMITIVES.contains(&name.as_str()) || names.contains(&name.as_str())
            })
        }
        Type::Paren(inner) => certainly_not(&inner.elem, names),
        Type::Group(inner) => certainly_not(&inner.elem, names),
        Type::Reference(_)
        | Type::Tuple(_)
        | Type::Array(_)
        | Type::Slice(_)
        | Type::Ptr(_)
        | Type::BareFn(_)
        | Type::Never(_) => true,
        _ => false,
    }
}
