//! Rejects an item that `#[traced_service]` cannot trace, handlers and response streams of the
//! wrong shape, and `#[traced]` out of place: each error at the offending tokens and saying what
//! to write instead. The options are read, and their misuse reported, by `attr.rs`. Every error
//! is recorded, so all are reported at once.

use proc_macro2::TokenStream;
use syn::visit::Visit;
use syn::{FnArg, Ident, ImplItem, Item, ItemImpl, Pat, ReturnType, Type};

use crate::ast::{Input, Method, Service, Shape, Stream, Target, Written};
use crate::attr::is_traced;
use crate::ctxt::Ctxt;

/// Checks the item the attribute is on.
pub(crate) fn check(input: &Input, cx: &Ctxt) {
    match &input.target {
        Target::Impl(service) => check_service(service, cx),
        Target::Other(item) => not_an_impl(item, cx),
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
        for attr in attrs.iter().filter(|attr| is_traced(attr)) {
            cx.error_spanned_by(attr, "#[traced] belongs on a method of this impl, not here");
        }
    }
    for method in &service.methods {
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
                PRIMITIVES
                    .iter()
                    .chain(names)
                    .any(|name| segment.ident == name)
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
