//! A generated message's `Debug` shows its redacted fields as they are recorded — through
//! `{:?}`, `{:#?}`, `#[tracing::instrument]` and `info!(?message)` — and never their values.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tonic_traced::{redact, Config};
use tonic_traced_tests::kitchen::sink::v1::{account, Account, AccountReply, Order};
use tracing_subscriber::fmt::MakeWriter;

/// Values that must never be printed.
const SECRETS: [&str; 5] = [
    "alice@example.com",
    "hunter2",
    "SN-998877",
    "tok-secret-bytes",
    "leave at the door",
];

fn account(credential: account::Credential) -> Account {
    Account {
        email: "alice@example.com".into(),
        password: "hunter2".into(),
        device: Some(account::Device {
            serial: "SN-998877".into(),
            model: "X1".into(),
        }),
        credential: Some(credential),
        tier: account::Tier::Gold as i32,
        note: Some("leave at the door".into()),
        settings: Some(account::Settings {
            theme: "dark".into(),
        }),
        tiers: vec![account::Tier::Gold as i32, 7],
    }
}

fn token() -> account::Credential {
    account::Credential::Token(b"tok-secret-bytes".to_vec())
}

fn assert_no_secret(text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} printed raw in {text}");
    }
}

/// Log lines written by a `fmt` subscriber, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tracing::instrument]
fn handle(request: &Account) -> AccountReply {
    tracing::info!(?request, "handling");
    AccountReply {
        session: "session-secret".into(),
        account: Some(request.clone()),
    }
}

#[tracing::instrument(ret)]
fn reply(request: &Account) -> AccountReply {
    handle(request)
}

// One test: the hash key is process-wide, and the test checks Debug before and after it is set.
#[test]
fn debug_shows_redacted_fields_as_recorded_never_raw() {
    // Before a configuration is installed the key is not known: the hash is not shown.
    let before = format!("{:?}", account(token()));
    assert_no_secret(&before);
    assert!(before.contains("email: HASH(?)"), "{before}");

    Config::new()
        .hash_key("debug-test-key")
        .without_metrics()
        .install()
        .unwrap();
    let hash = |value: &[u8]| format!("HASH({})", redact::hash(value).as_str());

    let message = account(token());
    let text = format!("{message:?}");
    assert_no_secret(&text);
    let expected = format!(
        "Account {{ email: {email}, password: PRESENT(true), device: Some(Device {{ serial: \
         {serial}, model: \"X1\" }}), tier: TIER_GOLD, note: Some(LENGTH(17)), settings: \
         Some(Settings {{ theme: \"dark\" }}), tiers: [TIER_GOLD, 7], credential: \
         Some(Token({token})) }}",
        email = hash(b"alice@example.com"),
        serial = hash(b"SN-998877"),
        token = hash(b"tok-secret-bytes"),
    );
    assert_eq!(text, expected);

    let pretty = format!("{message:#?}");
    assert_no_secret(&pretty);
    assert!(pretty.contains(&format!("email: {},\n", hash(b"alice@example.com"))));

    // Other variants of the oneof: one redacted with PRESENT, one plain.
    let guest = format!("{:?}", account(account::Credential::Guest(true)));
    assert!(
        guest.contains("credential: Some(Guest(PRESENT(true)))"),
        "{guest}"
    );
    let nickname = format!("{:?}", account(account::Credential::Nickname("al".into())));
    assert!(
        nickname.contains("credential: Some(Nickname(\"al\"))"),
        "{nickname}"
    );
    // An empty optional LENGTH field and an unset PRESENT field.
    let empty = format!("{:?}", Account::default());
    assert!(empty.contains("password: PRESENT(false)"), "{empty}");
    assert!(empty.contains("note: None"), "{empty}");

    // A reply holding the request: its own PRESENT field, and the nested message redacted.
    let response = AccountReply {
        session: "session-secret".into(),
        account: Some(message.clone()),
    };
    let response_text = format!("{response:?}");
    assert_no_secret(&response_text);
    assert!(!response_text.contains("session-secret"), "{response_text}");
    assert!(response_text.starts_with(
        "AccountReply { session: PRESENT(true), account: Some(Account { email: HASH("
    ));

    // Messages without redacted fields keep prost's derive.
    let order = Order {
        id: "o-1".into(),
        ..Order::default()
    };
    assert!(format!("{order:?}").starts_with("Order { id: \"o-1\""));

    // `#[tracing::instrument]` records its arguments (and `ret`) through Debug; so does `?value`.
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        reply(&message);
    });
    let logs = captured.text();
    assert_no_secret(&logs);
    assert!(!logs.contains("session-secret"), "{logs}");
    assert!(logs.contains(&hash(b"alice@example.com")), "{logs}");
    assert!(logs.contains("session: PRESENT(true)"), "{logs}");
}
