//! `streams-demo` exits 0 and prints one trace per streaming call: the client-streaming upload
//! with a message span per chunk on each side, and the bidirectional chat.

mod common;

use common::{run_example, trace_with};

/// Chunks uploaded by the test.
const CHUNKS: usize = 7;
/// Lines the demo says in the chat.
const CHAT_LINES: usize = 3;

#[test]
fn streams_demo_traces_client_streaming_and_bidi_calls() {
    let chunks = CHUNKS.to_string();
    let (stdout, _stderr, traces) = run_example(env!("CARGO_BIN_EXE_streams-demo"), &[&chunks]);
    assert!(
        stdout.contains(&format!(
            "upload: {CHUNKS} chunks, {} bytes of report.pdf",
            CHUNKS * 1024
        )),
        "{stdout}"
    );
    assert!(stdout.contains("echo-bot: alice: HOW ARE YOU!"), "{stdout}");
    assert_eq!(traces.len(), 2, "one upload and one chat: {traces:#?}");

    let upload = trace_with(&traces, "files.FileService/Upload");
    let lines: Vec<&str> = upload.lines().collect();
    // Client span, CHUNKS sent chunks and the received summary; server span, CHUNKS received
    // chunks and the sent summary.
    let spans = 2 * CHUNKS + 4;
    assert!(
        lines[0].contains(&format!("· {spans} spans")),
        "{spans} spans: {upload}"
    );
    assert!(
        lines[1].starts_with("files.FileService/Upload") && lines[1].contains("CLIENT"),
        "{upload}"
    );
    assert!(
        upload.contains("├─ files.FileService/Upload   SERVER"),
        "{upload}"
    );
    assert!(upload.contains("message SENT"), "{upload}");
    assert!(upload.contains("message RECEIVED"), "{upload}");
    assert!(
        upload.contains("file.name=report.pdf chunk.index=1 chunk.size=1024"),
        "{upload}"
    );

    let chat = trace_with(&traces, "chat.ChatService/Chat");
    let lines: Vec<&str> = chat.lines().collect();
    // Client and server spans, and each line and answer sent by one side, received by the other.
    let spans = 2 + 4 * CHAT_LINES;
    assert!(
        lines[0].contains(&format!("· {spans} spans")),
        "{spans} spans: {chat}"
    );
    assert!(
        lines[1].starts_with("chat.ChatService/Chat") && lines[1].contains("CLIENT"),
        "{chat}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.contains("chat.ChatService/Chat ") && line.contains(" SERVER ")),
        "{chat}"
    );
    assert!(
        chat.contains("chat.user=alice chat.text_length=2"),
        "{chat}"
    );
    assert!(
        chat.contains("chat.user=echo-bot chat.text_length=10"),
        "{chat}"
    );
    assert!(
        !chat.contains("how are you"),
        "the text stays out of the trace"
    );
}
