//! Reads the item under `#[traced_service]` as written: the impl, its stream types, and each
//! method's options, shape and stream. Reading judges nothing: `valid.rs` rejects what is
//! wrong, and `expand.rs` writes the traced impl.

use proc_macro2::TokenStream;
use syn::visit::Visit;
use syn::{Ident, ImplItem, ImplItemFn, Item, ItemImpl, Meta, ReturnType, Type};

use crate::attr::{is_traced, read_options, MethodOptions, TracedAttr};

/// The attribute's options and the item it is on.
pub(crate) struct Input {
    /// The options of `#[traced_service(...)]`, or why they do not parse.
    pub(crate) options: syn::Result<Vec<Meta>>,
    pub(crate) target: Target,
}

/// What the attribute is on.
pub(crate) enum Target {
    /// An impl, the only item it can trace.
    Impl(Service),
    /// Anything else.
    Other(Item),
}

/// A service impl to trace.
pub(crate) struct Service {
    pub(crate) item: ItemImpl,
    /// The impl's methods, handlers or not.
    pub(crate) methods: Vec<Method>,
}

/// How a handler is written.
pub(crate) enum Shape {
    /// `async fn`: before `#[async_trait]` expands, or a native async trait method.
    AsyncFn,
    /// A plain `fn` returning a future: after `#[async_trait]` (`boxed`), or `impl Future`.
    ReturnsFuture { boxed: bool },
}

/// One method of the impl.
pub(crate) struct Method {
    /// Index of the method in the impl's items.
    pub(crate) index: usize,
    /// Its `#[traced]` attributes, as written.
    pub(crate) traced: Vec<TracedAttr>,
    pub(crate) options: MethodOptions,
    pub(crate) shape: Shape,
    /// The associated stream type the method returns, for server-streaming and bidi RPCs.
    pub(crate) stream: Option<Ident>,
}

impl Input {
    /// Reads the attribute's options and its item; fails only when the item does not parse.
    pub(crate) fn read(options: TokenStream, item: TokenStream) -> syn::Result<Self> {
        let target = match syn::parse2(item)? {
            Item::Impl(item) => Target::Impl(Service::read(item)),
            other => Target::Other(other),
        };
        Ok(Input {
            options: read_options(options),
            target,
        })
    }
}

impl Service {
    fn read(item: ItemImpl) -> Self {
        let stream_types: Vec<&Ident> = item
            .items
            .iter()
            .filter_map(|item| match item {
                ImplItem::Type(ty) => Some(&ty.ident),
                _ => None,
            })
            .collect();
        let methods = item
            .items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| match item {
                ImplItem::Fn(method) => Some(Method::read(index, method, &stream_types)),
                _ => None,
            })
            .collect();
        Service { item, methods }
    }

    /// The `fn` item of one of the impl's methods.
    pub(crate) fn method_fn(&self, method: &Method) -> &ImplItemFn {
        match &self.item.items[method.index] {
            ImplItem::Fn(method) => method,
            _ => unreachable!("methods are read from fn items"),
        }
    }
}

impl Method {
    fn read(index: usize, method: &ImplItemFn, stream_types: &[&Ident]) -> Self {
        let traced: Vec<TracedAttr> = method
            .attrs
            .iter()
            .filter(|attr| is_traced(attr))
            .map(TracedAttr::read)
            .collect();
        let shape = if method.sig.asyncness.is_some() {
            Shape::AsyncFn
        } else {
            Shape::ReturnsFuture {
                boxed: returns_pin(&method.sig.output),
            }
        };
        Method {
            index,
            options: MethodOptions::read(&traced),
            traced,
            shape,
            stream: stream_of(&method.sig.output, stream_types),
        }
    }
}

/// The associated stream type named as `Self::Name` in a return type, if any.
fn stream_of(output: &ReturnType, stream_types: &[&Ident]) -> Option<Ident> {
    struct FindSelfType<'a> {
        stream_types: &'a [&'a Ident],
        found: Option<Ident>,
    }
    impl<'ast> Visit<'ast> for FindSelfType<'_> {
        fn visit_type_path(&mut self, ty: &'ast syn::TypePath) {
            if let Some(name) = self_associated(ty) {
                if self.stream_types.contains(&name) {
                    self.found = Some(name.clone());
                }
            }
            syn::visit::visit_type_path(self, ty);
        }
    }
    let mut finder = FindSelfType {
        stream_types,
        found: None,
    };
    finder.visit_return_type(output);
    finder.found
}

/// `Name` in `Self::Name` or `<Self as Trait>::Name`.
pub(crate) fn self_associated(ty: &syn::TypePath) -> Option<&Ident> {
    let segments = &ty.path.segments;
    match &ty.qself {
        None if segments.len() == 2 && segments[0].ident == "Self" => Some(&segments[1].ident),
        Some(qself) if matches!(&*qself.ty, Type::Path(p) if p.path.is_ident("Self")) => {
            segments.last().map(|segment| &segment.ident)
        }
        _ => None,
    }
}

fn returns_pin(output: &ReturnType) -> bool {
    match output {
        ReturnType::Type(_, ty) => match &**ty {
            Type::Path(path) => path.path.segments.last().is_some_and(|s| s.ident == "Pin"),
            _ => false,
        },
        ReturnType::Default => false,
    }
}
