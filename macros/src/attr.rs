//! The options of `#[traced_service(...)]` and `#[traced(...)]`: one table says what each option
//! is called, how its value is written and what it reads as; each attribute is read once against
//! it into typed options. Every misuse of an option (unknown, given twice, a value of the wrong
//! shape, options that exclude each other) is recorded in the [`Ctxt`], so all are reported at
//! once, each at the offending tokens and saying what to write instead.

use proc_macro2::TokenStream;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, Lit, LitInt, LitStr, Meta, Path, Token};

use crate::ctxt::Ctxt;

// The table: every option, of either attribute.

/// `messages = spans | events | totals | off`: what each message of a stream records.
const MESSAGES: Opt<Messages> = Opt {
    name: "messages",
    value: Value::Word {
        words: &[
            ("spans", Messages::Spans),
            ("events", Messages::Events),
            ("totals", Messages::Totals),
            ("off", Messages::Off),
        ],
        what: "message mode",
    },
};

/// `max_messages = N`: the message spans or events recorded per call.
const MAX_MESSAGES: Opt<LitInt> = Opt {
    name: "max_messages",
    value: Value::Expr {
        example: "128",
        read: positive_int,
    },
};

/// `public_endpoint`: callers are not trusted to choose the trace or its sampling.
const PUBLIC_ENDPOINT: Opt<()> = Opt {
    name: "public_endpoint",
    value: Value::Flag(()),
};

/// `service_name = "…"`: the service name spans carry, instead of the proto's.
const SERVICE_NAME: Opt<LitStr> = Opt {
    name: "service_name",
    value: Value::Expr {
        example: "\"…\"",
        read: service_name,
    },
};

/// `is_error = path::to::fn`: which status codes mark the SERVER span as an error.
const IS_ERROR: Opt<Path> = Opt {
    name: "is_error",
    value: Value::Expr {
        example: "path::to::fn",
        read: is_error,
    },
};

/// `crate = "…"`: where the runtime crate is, when it is not `::tonic_traced`.
const CRATE: Opt<Path> = Opt {
    name: "crate",
    value: Value::Expr {
        example: "\"path::to::tonic_traced\"",
        read: crate_path,
    },
};

/// `skip`: the method is not traced.
const SKIP: Opt<()> = Opt {
    name: "skip",
    value: Value::Flag(()),
};

/// One option: its name, and how its value is written and read into a `T`.
struct Opt<T: 'static> {
    /// The path before `=`, or the whole option for a flag.
    name: &'static str,
    value: Value<T>,
}

/// How an option's value is written, and what it means.
enum Value<T: 'static> {
    /// None: the option is a bare word, `public_endpoint`, meaning the `T` given here.
    Flag(T),
    /// One of a few words, `messages = spans`, each meaning a `T`; `what` names them in the
    /// error for another word ("message mode").
    Word {
        words: &'static [(&'static str, T)],
        what: &'static str,
    },
    /// A literal or a path, written as `example` shows; `read` says what it means, or what is
    /// wrong with it.
    Expr {
        example: &'static str,
        read: fn(&Expr) -> Result<T, &'static str>,
    },
}

impl<T: Clone> Opt<T> {
    /// How the option is written, in a list of the known ones: `messages = spans | events | …`.
    fn usage(&self) -> String {
        let name = self.name;
        match &self.value {
            Value::Flag(_) => name.to_owned(),
            Value::Word { words, .. } => {
                let words: Vec<&str> = words.iter().map(|(word, _)| *word).collect();
                format!("{name} = {}", words.join(" | "))
            }
            Value::Expr { example, .. } => format!("{name} = {example}"),
        }
    }

    /// The value of `option`, or an error at the offending tokens saying what to write.
    fn read(&self, option: &Meta) -> syn::Result<T> {
        let name = self.name;
        match (&self.value, option) {
            (Value::Flag(present), Meta::Path(_)) => Ok(present.clone()),
            (Value::Flag(_), _) => Err(syn::Error::new_spanned(
                option.path(),
                format!("{name} takes no value; write just `{name}`"),
            )),
            (Value::Word { words, what }, Meta::NameValue(option)) => word(&option.value)
                .and_then(|written| words.iter().find(|(word, _)| written == word))
                .map(|(_, meaning)| meaning.clone())
                .ok_or_else(|| {
                    let words: Vec<String> = words
                        .iter()
                        .map(|(word, _)| format!("{name} = {word}"))
                        .collect();
                    let (last, others) = words.split_last().expect("an option has words");
                    let message = format!("unknown {what}; write {} or {last}", others.join(", "));
                    syn::Error::new_spanned(&option.value, message)
                }),
            (Value::Expr { read, .. }, Meta::NameValue(option)) => read(&option.value)
                .map_err(|message| syn::Error::new_spanned(&option.value, message)),
            (_, Meta::Path(_) | Meta::List(_)) => Err(syn::Error::new_spanned(
                option,
                format!("{name} needs a value; write {}", self.usage()),
            )),
        }
    }
}

/// `messages = spans | events | totals | off`.
#[derive(Clone, Copy)]
pub(crate) enum Messages {
    Spans,
    Events,
    Totals,
    Off,
}

/// Options of the whole impl.
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
    /// Reads `option, option = value, …` of `#[traced_service(...)]`; of an option given twice,
    /// the first counts.
    pub(crate) fn read(cx: &Ctxt, tokens: TokenStream) -> Self {
        let mut messages = Attr::none(cx, &MESSAGES);
        let mut max_messages = Attr::none(cx, &MAX_MESSAGES);
        let mut public_endpoint = Attr::none(cx, &PUBLIC_ENDPOINT);
        let mut service_name = Attr::none(cx, &SERVICE_NAME);
        let mut is_error = Attr::none(cx, &IS_ERROR);
        let mut runtime = Attr::none(cx, &CRATE);
        match parse_list(tokens) {
            Ok(options) => read_options(
                cx,
                "#[traced_service]",
                &options,
                &mut [
                    &mut messages,
                    &mut max_messages,
                    &mut public_endpoint,
                    &mut service_name,
                    &mut is_error,
                    &mut runtime,
                ],
            ),
            Err(error) => cx.syn_error(error),
        }
        ServiceOptions {
            messages: messages.get(),
            max_messages: max_messages.get(),
            public_endpoint: public_endpoint.get().is_some(),
            service_name: service_name.get(),
            is_error: is_error.get(),
            runtime: runtime.get(),
        }
    }
}

/// Options of one method.
pub(crate) struct MethodOptions {
    pub(crate) skip: bool,
    pub(crate) messages: Option<Messages>,
    pub(crate) max_messages: Option<LitInt>,
}

impl MethodOptions {
    /// Reads the options of every `#[traced(...)]` among a method's attributes, all together.
    pub(crate) fn read(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut skip = Attr::none(cx, &SKIP);
        let mut messages = Attr::none(cx, &MESSAGES);
        let mut max_messages = Attr::none(cx, &MAX_MESSAGES);
        let slots: &mut [&mut dyn Slot] = &mut [&mut skip, &mut messages, &mut max_messages];
        let mut options = Vec::new();
        for attr in attrs.iter().filter(|attr| is_traced(attr)) {
            let Meta::List(list) = &attr.meta else {
                cx.error_spanned_by(
                    attr,
                    format!("#[traced] needs an option: #[traced({})]", usages(slots)),
                );
                continue;
            };
            match parse_list(list.tokens.clone()) {
                Ok(list) => options.extend(list),
                Err(error) => cx.syn_error(error),
            }
        }
        read_options(cx, "#[traced]", &options, slots);
        let why = "a skipped method has no span";
        conflict(cx, &skip, &messages, why);
        conflict(cx, &skip, &max_messages, why);
        MethodOptions {
            skip: skip.get().is_some(),
            messages: messages.get(),
            max_messages: max_messages.get(),
        }
    }
}

/// One option of an attribute being read, as serde_derive's `Attr`: its value, and where it
/// was written, to report it written again.
struct Attr<'c, T: 'static> {
    cx: &'c Ctxt,
    opt: &'static Opt<T>,
    /// Where the option was first written, even with a wrong value: its place among the
    /// attribute's options, and the option.
    written: Option<(usize, Meta)>,
    value: Option<T>,
}

impl<'c, T: Clone> Attr<'c, T> {
    fn none(cx: &'c Ctxt, opt: &'static Opt<T>) -> Self {
        Attr {
            cx,
            opt,
            written: None,
            value: None,
        }
    }

    /// The value, if the option was written with a valid one.
    fn get(self) -> Option<T> {
        self.value
    }
}

/// An option being read, whatever the type of its value: what [`read_options`] hands each
/// option to.
trait Slot {
    fn opt_name(&self) -> &'static str;
    fn usage(&self) -> String;
    /// Reads `option`, the `at`-th of the attribute.
    fn read(&mut self, at: usize, option: &Meta);
}

impl<T: Clone> Slot for Attr<'_, T> {
    fn opt_name(&self) -> &'static str {
        self.opt.name
    }

    fn usage(&self) -> String {
        self.opt.usage()
    }

    fn read(&mut self, at: usize, option: &Meta) {
        if self.written.is_some() {
            let message = format!("`{}` is given twice; keep one", self.opt.name);
            self.cx.error_spanned_by(option.path(), message);
        }
        match self.opt.read(option) {
            Ok(value) if self.written.is_none() => self.value = Some(value),
            Ok(_) => {}
            Err(error) => self.cx.syn_error(error),
        }
        self.written.get_or_insert_with(|| (at, option.clone()));
    }
}

/// Reads `option, option = value, …`, the list of an attribute.
fn parse_list(tokens: TokenStream) -> syn::Result<Vec<Meta>> {
    let options = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens)?;
    Ok(options.into_iter().collect())
}

/// Hands each option to the slot of its name; an option no slot knows is reported with the
/// list of those `attribute` knows.
fn read_options(cx: &Ctxt, attribute: &str, options: &[Meta], slots: &mut [&mut dyn Slot]) {
    for (at, option) in options.iter().enumerate() {
        match slots
            .iter_mut()
            .find(|slot| option.path().is_ident(slot.opt_name()))
        {
            Some(slot) => slot.read(at, option),
            None => cx.error_spanned_by(
                option.path(),
                format!(
                    "unknown {attribute} option; expected one of: {}",
                    usages(slots)
                ),
            ),
        }
    }
}

/// How each option of `slots` is written, in order.
fn usages(slots: &[&mut dyn Slot]) -> String {
    let usages: Vec<String> = slots.iter().map(|slot| slot.usage()).collect();
    usages.join(", ")
}

/// Rejects `first` and `second` written together, at whichever comes later: `first`
/// conflicts with `second` because of `why`.
fn conflict<A, B>(cx: &Ctxt, first: &Attr<A>, second: &Attr<B>, why: &str) {
    let (Some((first_at, first_option)), Some((second_at, second_option))) =
        (&first.written, &second.written)
    else {
        return;
    };
    let later = if first_at > second_at {
        first_option
    } else {
        second_option
    };
    cx.error_spanned_by(
        later,
        format!(
            "{} conflicts with {}: {why}; keep one of the two",
            first.opt.name, second.opt.name
        ),
    );
}

/// The word of `name = word`.
fn word(value: &Expr) -> Option<&syn::Ident> {
    match value {
        Expr::Path(path) if path.qself.is_none() => path.path.get_ident(),
        _ => None,
    }
}

/// A string literal value.
fn string(value: &Expr) -> Option<&LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(string),
            ..
        }) => Some(string),
        _ => None,
    }
}

/// A whole number above zero that fits a `u64`, as `max_messages = 100` gives it.
fn positive_int(value: &Expr) -> Result<LitInt, &'static str> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) if int.base10_parse::<u64>().is_ok_and(|n| n > 0) => Ok(int.clone()),
        _ => Err(
            "max_messages takes a whole number above zero, the message spans or \
             events recorded per call, e.g. max_messages = 1000",
        ),
    }
}

/// The name of `service_name = "…"`, not empty.
fn service_name(value: &Expr) -> Result<LitStr, &'static str> {
    match string(value) {
        Some(name) if name.value().is_empty() => Err("service_name must not be empty; write \
             the name spans should carry, e.g. service_name = \"payment.Payments\", or remove \
             the option"),
        Some(name) => Ok(name.clone()),
        None => Err("service_name takes a string, e.g. service_name = \"payment.Payments\""),
    }
}

/// The function of `is_error = path::to::fn`.
fn is_error(value: &Expr) -> Result<Path, &'static str> {
    match value {
        Expr::Path(path) if path.qself.is_none() => Ok(path.path.clone()),
        _ => Err(
            "is_error takes the path of a `fn(tonic::Code) -> bool`, e.g. is_error = only_internal",
        ),
    }
}

/// The runtime crate named by `crate = "…"`.
fn crate_path(value: &Expr) -> Result<Path, &'static str> {
    string(value).and_then(|path| path.parse().ok()).ok_or(
        "crate must name the tonic-traced crate as a path, e.g. crate = \"::tonic_traced\" \
             or crate = \"my_reexports::tonic_traced\"",
    )
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

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    /// The messages of the errors `read` records, in order, and what it read.
    fn read<T>(read: impl FnOnce(&Ctxt) -> T) -> (T, Vec<String>) {
        let cx = Ctxt::new();
        let read = read(&cx);
        let errors = match cx.check() {
            Ok(()) => Vec::new(),
            Err(errors) => errors.into_iter().map(|error| error.to_string()).collect(),
        };
        (read, errors)
    }

    #[test]
    fn service_options_are_read_into_their_types() {
        let tokens = quote!(
            messages = totals,
            max_messages = 5,
            public_endpoint,
            service_name = "bank.Ledger",
            is_error = codes::only_internal,
            crate = "::traced"
        );
        let (options, errors) = read(|cx| ServiceOptions::read(cx, tokens));
        assert_eq!(errors, Vec::<String>::new());
        assert!(matches!(options.messages, Some(Messages::Totals)));
        assert_eq!(options.max_messages.unwrap().base10_digits(), "5");
        assert!(options.public_endpoint);
        assert_eq!(options.service_name.unwrap().value(), "bank.Ledger");
        let is_error = options.is_error.unwrap();
        assert_eq!(quote!(#is_error).to_string(), "codes :: only_internal");
        let runtime = options.runtime.unwrap();
        assert_eq!(quote!(#runtime).to_string(), ":: traced");
    }

    #[test]
    fn every_misuse_is_reported_and_the_first_value_counts() {
        let tokens = quote!(
            sampled,
            messages = spans,
            messages = events,
            public_endpoint = true,
            max_messages,
            service_name = 3
        );
        let (options, errors) = read(|cx| ServiceOptions::read(cx, tokens));
        assert!(matches!(options.messages, Some(Messages::Spans)));
        assert!(!options.public_endpoint);
        assert_eq!(
            errors,
            [
                "unknown #[traced_service] option; expected one of: messages = spans | events \
                 | totals | off, max_messages = 128, public_endpoint, service_name = \"…\", \
                 is_error = path::to::fn, crate = \"path::to::tonic_traced\"",
                "`messages` is given twice; keep one",
                "public_endpoint takes no value; write just `public_endpoint`",
                "max_messages needs a value; write max_messages = 128",
                "service_name takes a string, e.g. service_name = \"payment.Payments\"",
            ]
        );
    }

    #[test]
    fn method_options_are_read_from_every_traced_attribute() {
        let attrs: Vec<Attribute> = vec![
            syn::parse_quote!(#[doc = "not ours"]),
            syn::parse_quote!(#[traced(max_messages = 3)]),
            syn::parse_quote!(#[traced(messages = off)]),
            syn::parse_quote!(#[traced(messages = often)]),
        ];
        let (options, errors) = read(|cx| MethodOptions::read(cx, &attrs));
        assert!(!options.skip);
        assert!(matches!(options.messages, Some(Messages::Off)));
        assert_eq!(options.max_messages.unwrap().base10_digits(), "3");
        assert_eq!(
            errors,
            [
                "`messages` is given twice; keep one",
                "unknown message mode; write messages = spans, messages = events, \
                 messages = totals or messages = off",
            ]
        );
    }

    #[test]
    fn skip_conflicts_with_each_message_option_before_or_after_it() {
        let attrs: Vec<Attribute> = vec![
            syn::parse_quote!(#[traced(max_messages = 3, skip)]),
            syn::parse_quote!(#[traced(messages = spans)]),
        ];
        let (options, errors) = read(|cx| MethodOptions::read(cx, &attrs));
        assert!(options.skip);
        let why = "a skipped method has no span; keep one of the two";
        assert_eq!(
            errors,
            [
                format!("skip conflicts with messages: {why}"),
                format!("skip conflicts with max_messages: {why}"),
            ]
        );
    }
}
