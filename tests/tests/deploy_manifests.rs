//! The deployment files of `deploy/`: Kubernetes manifests, the Compose stack, the collector's
//! and Prometheus's configurations, the Dockerfile. None of them can run here (no cluster, no
//! Docker engine), so they are checked as far as possible without the real programs:
//!
//! - every manifest of `deploy/kubernetes` against the OpenAPI schemas of a pinned Kubernetes
//!   version, strictly (unknown fields fail), with `kubernetes-validate`;
//! - `deploy/docker-compose.yaml` against the Compose specification's schema (`check-jsonschema`);
//! - `deploy/Dockerfile` with BuildKit's parser (the `dockerfile` Python package);
//! - what no schema sees: Services select Deployments and target their ports, probes and mounts
//!   and RBAC refer to things that exist, `$(VAR)` references are defined, the services' OTEL_*
//!   and TONIC_TRACED_* variables are what `tonic_traced::init()` accepts and point at the
//!   collector's first tier and the hash key Secret, the first tier routes traces to exactly the
//!   tail-sampling collectors that exist, the tail policies are the documented ones, the
//!   collectors' pipelines use defined components, Prometheus scrapes existing hosts and ports.
//!
//! Needs `python3` with `tests/python/deploy-requirements.txt` installed (`scripts/test.sh` does
//! it). Under `CI=true` a missing tool fails the test; otherwise the test is skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value as Json;

/// The Kubernetes version the manifests are validated against.
const KUBERNETES_VERSION: &str = "1.34.0";
const NAMESPACE: &str = "tonic-traced";
/// The services of the examples deployed on their own, with the tracing setup under test.
const APP_DEPLOYMENTS: [&str; 2] = ["payment-service", "order-service"];
/// The service untrusted callers reach, and the proto service it marks a public endpoint.
const EDGE: (&str, &str) = ("payment-service", "payment.PaymentService");
/// The Secret holding the key of `redact: HASH`, and its key (the file name once mounted).
const HASH_KEY_SECRET: (&str, &str) = ("tonic-traced-hash-key", "hash-key");
/// The Compose secret of the same key.
const HASH_KEY_COMPOSE_SECRET: &str = "tonic-traced-hash-key";
/// What the committed key starts with: a placeholder, never a real key.
const HASH_KEY_PLACEHOLDER: &str = "REPLACE-ME";
/// The collector configurations of deploy/otel-collector: the first tier, which the services
/// send every span to, and the second, which tail-samples.
const FIRST_TIER: &str = "./otel-collector/config.yaml";
const SECOND_TIER: &str = "./otel-collector/sampler.yaml";
/// The services' head sampler: every span goes to the collector, whose tail tier decides.
const HEAD_SAMPLER: &str = "parentbased_always_on";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .into()
}

fn deploy(path: &str) -> PathBuf {
    repo().join("deploy").join(path)
}

/// Whether python3 and the validators are installed; missing ones fail under CI, skip elsewhere.
fn tools_ready() -> bool {
    let ready = Command::new("python3")
        .args([
            "-c",
            "import yaml, dockerfile, kubernetes_validate, check_jsonschema",
        ])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
        && ["kubernetes-validate", "check-jsonschema"]
            .iter()
            .all(|tool| {
                Command::new(tool)
                    .arg("--version")
                    .output()
                    .is_ok_and(|output| output.status.success())
            });
    if !ready {
        assert!(
            std::env::var("CI").is_err(),
            "python3 with tests/python/deploy-requirements.txt is required under CI"
        );
        eprintln!("skipping: python3 with tests/python/deploy-requirements.txt is not installed");
    }
    ready
}

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|error| panic!("{command:?}: {error}"))
}

fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs a Python snippet that prints one JSON document.
fn python_json(script: &str, args: &[&str], stdin: Option<&str>) -> Json {
    use std::io::Write;
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let output = child.wait_with_output().unwrap();
    assert_success(&output, &format!("python3 {args:?}"));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every document of a YAML file, as JSON (anchors and merge keys resolved).
fn yaml_file(path: &Path) -> Vec<Json> {
    let script = "import json, sys, yaml\n\
                  print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]))";
    let docs = python_json(script, &[path.to_str().unwrap()], None);
    docs.as_array().unwrap().clone()
}

/// One YAML document given as text (an embedded configuration).
fn yaml_text(text: &str) -> Json {
    let script = "import json, sys, yaml\nprint(json.dumps(yaml.safe_load(sys.stdin.read())))";
    python_json(script, &[], Some(text))
}

fn manifest_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy("kubernetes"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no manifests in deploy/kubernetes");
    files
}

/// All Kubernetes resources of deploy/kubernetes.
fn resources() -> Vec<Json> {
    manifest_files().iter().flat_map(|f| yaml_file(f)).collect()
}

fn of_kind<'a>(resources: &'a [Json], kind: &str) -> Vec<&'a Json> {
    resources.iter().filter(|r| r["kind"] == kind).collect()
}

fn named<'a>(resources: &'a [Json], kind: &str, name: &str) -> &'a Json {
    of_kind(resources, kind)
        .into_iter()
        .find(|r| r["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} named {name} in deploy/kubernetes"))
}

fn str_of(value: &Json) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

fn array(value: &Json) -> &[Json] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn containers(deployment: &Json) -> &[Json] {
    array(&deployment["spec"]["template"]["spec"]["containers"])
}

/// Whether `port` (a number or a port name) is a containerPort of `deployment`.
fn has_container_port(deployment: &Json, port: &Json) -> bool {
    containers(deployment).iter().any(|c| {
        array(&c["ports"]).iter().any(|p| match port {
            Json::String(name) => p["name"] == *name.as_str(),
            number => p["containerPort"] == *number,
        })
    })
}

/// `host` and `port` of `http://host:port`, `host:port`.
fn host_port(endpoint: &str) -> (String, u16) {
    let rest = endpoint.split("://").last().unwrap();
    let rest = rest.split('/').next().unwrap();
    let (host, port) = rest
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("no port in {endpoint}"));
    (host.to_owned(), port.parse().unwrap())
}

/// Whether a Service `host` of the manifests exposes `port`.
fn service_exposes(resources: &[Json], host: &str, port: u16) -> bool {
    of_kind(resources, "Service").iter().any(|s| {
        s["metadata"]["name"] == host
            && array(&s["spec"]["ports"]).iter().any(|p| p["port"] == port)
    })
}

fn env_value<'a>(container: &'a Json, name: &str) -> Option<&'a Json> {
    array(&container["env"]).iter().find(|e| e["name"] == name)
}

fn env_literal<'a>(container: &'a Json, name: &str) -> &'a str {
    let entry = env_value(container, name).unwrap_or_else(|| panic!("{name} is not set"));
    str_of(&entry["value"])
}

fn compose() -> Json {
    yaml_file(&deploy("docker-compose.yaml")).remove(0)
}

/// Whether the Compose service `host` has `port` among its container ports or `expose`.
fn compose_exposes(compose: &Json, host: &str, port: u16) -> bool {
    let service = &compose["services"][host];
    let ports = array(&service["ports"])
        .iter()
        .chain(array(&service["expose"]));
    ports.into_iter().any(|p| {
        let text = match p {
            Json::String(text) => text.clone(),
            other => other.to_string(),
        };
        let container = text.rsplit(':').next().unwrap().trim_end_matches("/tcp");
        container.parse::<u16>().ok() == Some(port)
    })
}

/// A collector configuration of deploy/otel-collector (`FIRST_TIER`, `SECOND_TIER`), as
/// deployed: with the defaults of its `${env:VAR:-default}` references.
fn collector_config(file: &str) -> Json {
    as_deployed(yaml_file(&deploy(file)).remove(0))
}

/// A collector configuration with each `${env:VAR:-default}` reference replaced by its default:
/// what the collector runs where the deployment sets no such variable (checked by
/// `collectors_run_their_files_defaults`). A value that is one whole reference takes the
/// default's type, as the collector gives it (`port: ${env:PORT:-8888}` is a number).
fn as_deployed(config: Json) -> Json {
    match config {
        Json::String(text) => {
            let (resolved, whole) = env_defaults(&text);
            match resolved.parse::<u64>() {
                Ok(number) if whole => number.into(),
                _ => resolved.into(),
            }
        }
        Json::Array(values) => values.into_iter().map(as_deployed).collect(),
        Json::Object(fields) => fields
            .into_iter()
            .map(|(key, value)| (key, as_deployed(value)))
            .collect(),
        other => other,
    }
}

/// `text` with each `${env:VAR:-default}` replaced by its default, and whether `text` was one
/// whole reference. A reference without a default fails: the deployed value must be in the file.
fn env_defaults(text: &str) -> (String, bool) {
    let mut resolved = String::new();
    let mut rest = text;
    let mut references = 0;
    while let Some(start) = rest.find("${env:") {
        resolved.push_str(&rest[..start]);
        let reference = &rest[start + "${env:".len()..];
        let end = reference
            .find('}')
            .unwrap_or_else(|| panic!("{text:?}: unclosed ${{env:"));
        let (name, default) = reference[..end]
            .split_once(":-")
            .unwrap_or_else(|| panic!("{text:?}: ${{env:{}}} has no default", &reference[..end]));
        assert!(name.starts_with("OTELCOL_"), "{text:?}: {name}");
        resolved.push_str(default);
        references += 1;
        rest = &reference[end + 1..];
    }
    let whole = references == 1 && text.starts_with("${env:") && text.ends_with('}');
    resolved.push_str(rest);
    (resolved, whole)
}

/// The configuration the collector Deployment `name` runs: the ConfigMap key its `--config`
/// file is mounted from.
fn deployment_config(resources: &[Json], name: &str) -> Json {
    let deployment = named(resources, "Deployment", name);
    let container = &containers(deployment)[0];
    let file = array(&container["args"])
        .iter()
        .chain(array(&container["command"]))
        .filter_map(Json::as_str)
        .find_map(|argument| argument.strip_prefix("--config="))
        .unwrap_or_else(|| panic!("{name}: no --config="));
    let (directory, key) = file.rsplit_once('/').unwrap();
    let mount = array(&container["volumeMounts"])
        .iter()
        .find(|m| m["mountPath"] == directory)
        .unwrap_or_else(|| panic!("{name}: nothing mounted at {directory}"));
    let volume = array(&deployment["spec"]["template"]["spec"]["volumes"])
        .iter()
        .find(|v| v["name"] == mount["name"])
        .unwrap();
    let config_map = named(resources, "ConfigMap", str_of(&volume["configMap"]["name"]));
    as_deployed(yaml_text(str_of(&config_map["data"][key])))
}

/// The Compose services that run the collector configuration `file` (mounted at their
/// `--config`).
fn compose_services_running(compose: &Json, file: &str) -> BTreeSet<String> {
    let mut running = BTreeSet::new();
    for (name, service) in compose["services"].as_object().unwrap() {
        let Some(config) = array(&service["command"])
            .iter()
            .filter_map(Json::as_str)
            .find_map(|argument| argument.strip_prefix("--config="))
        else {
            continue;
        };
        let mounted = array(&service["volumes"]).iter().any(|volume| {
            let mut parts = str_of(volume).split(':');
            parts.next() == Some(file) && parts.next() == Some(config)
        });
        if mounted {
            running.insert(name.clone());
        }
    }
    running
}

/// The one Deployment whose pods the Service `name` selects.
fn selected_deployment<'a>(resources: &'a [Json], name: &str) -> &'a Json {
    let service = named(resources, "Service", name);
    let selector = service["spec"]["selector"].as_object().unwrap();
    let selected: Vec<&Json> = of_kind(resources, "Deployment")
        .into_iter()
        .filter(|d| {
            let labels = &d["spec"]["template"]["metadata"]["labels"];
            selector.iter().all(|(key, value)| labels[key] == *value)
        })
        .collect();
    assert_eq!(selected.len(), 1, "Service {name} selects {selected:?}");
    selected[0]
}

/// The exporters of a configuration's traces pipeline that are not connectors: where spans leave.
fn trace_exporters(config: &Json) -> BTreeSet<String> {
    let connectors = config["connectors"].as_object();
    array(&config["service"]["pipelines"]["traces"]["exporters"])
        .iter()
        .map(|exporter| str_of(exporter).to_owned())
        .filter(|exporter| !connectors.is_some_and(|c| c.contains_key(exporter)))
        .collect()
}

/// The host and port of everything a collector configuration listens on.
fn listening(config: &Json) -> Vec<(String, u16)> {
    let mut endpoints: Vec<(String, u16)> = config["receivers"]["otlp"]["protocols"]
        .as_object()
        .unwrap()
        .values()
        .map(|protocol| host_port(str_of(&protocol["endpoint"])))
        .collect();
    endpoints.push(host_port(str_of(
        &config["extensions"]["health_check"]["endpoint"],
    )));
    if let Some(prometheus) = config["exporters"].get("prometheus") {
        endpoints.push(host_port(str_of(&prometheus["endpoint"])));
    }
    let telemetry =
        &config["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"];
    endpoints.push((
        str_of(&telemetry["host"]).to_owned(),
        telemetry["port"].as_u64().unwrap() as u16,
    ));
    endpoints
}

/// A copy of a first-tier configuration without its loadbalancing resolver.
fn without_resolver(config: &Json) -> Json {
    let mut config = config.clone();
    config["exporters"]["loadbalancing"]
        .as_object_mut()
        .unwrap()
        .remove("resolver");
    config
}

/// Binaries a container may run: the examples' `[[bin]]`s.
fn known_binaries() -> BTreeSet<String> {
    let mut binaries = BTreeSet::new();
    for entry in std::fs::read_dir(repo().join("examples/src/bin")).unwrap() {
        let path = entry.unwrap().path();
        binaries.insert(path.file_stem().unwrap().to_string_lossy().into_owned());
    }
    binaries
}

#[test]
fn kubernetes_manifests_match_the_pinned_api_schemas() {
    if !tools_ready() {
        return;
    }
    let files = manifest_files();
    let output = run(Command::new("kubernetes-validate")
        .args(["--strict", "--kubernetes-version", KUBERNETES_VERSION])
        .args(&files));
    assert_success(&output, "kubernetes-validate --strict");
    let report = String::from_utf8_lossy(&output.stdout);
    // One "passed" line per resource: none was skipped as unknown.
    let passed = report.lines().filter(|l| l.contains(" passed ")).count();
    assert_eq!(passed, resources().len(), "{report}");
}

#[test]
fn kubernetes_references_resolve() {
    if !tools_ready() {
        return;
    }
    let resources = resources();
    named(&resources, "Namespace", NAMESPACE);
    for resource in &resources {
        if resource["kind"] != "Namespace" {
            assert_eq!(resource["metadata"]["namespace"], NAMESPACE, "{resource}");
        }
    }
    let deployments = of_kind(&resources, "Deployment");
    let binaries = known_binaries();
    for deployment in &deployments {
        let name = str_of(&deployment["metadata"]["name"]);
        let template = &deployment["spec"]["template"];
        let labels = template["metadata"]["labels"].as_object().unwrap();
        for (key, value) in deployment["spec"]["selector"]["matchLabels"]
            .as_object()
            .unwrap()
        {
            assert_eq!(labels.get(key), Some(value), "{name}: selector {key}");
        }
        let pod = &template["spec"];
        if let Some(account) = pod["serviceAccountName"].as_str() {
            named(&resources, "ServiceAccount", account);
        }
        for volume in array(&pod["volumes"]) {
            if let Some(config_map) = volume["configMap"]["name"].as_str() {
                named(&resources, "ConfigMap", config_map);
            }
            if let Some(secret) = volume["secret"]["secretName"].as_str() {
                let secret = named(&resources, "Secret", secret);
                for item in array(&volume["secret"]["items"]) {
                    let key = str_of(&item["key"]);
                    assert!(
                        !secret["data"][key].is_null() || !secret["stringData"][key].is_null(),
                        "{name}: no {key} in Secret {}",
                        secret["metadata"]["name"]
                    );
                }
            }
        }
        for container in containers(deployment) {
            let image = str_of(&container["image"]);
            let tag = image.rsplit_once(':').map(|(_, tag)| tag).unwrap_or("");
            assert!(
                !tag.is_empty() && tag != "latest" && !tag.contains('/'),
                "{name}: pin the image tag: {image}"
            );
            for kind in ["requests", "limits"] {
                for resource in ["cpu", "memory"] {
                    assert!(
                        container["resources"][kind][resource].is_string(),
                        "{name}: resources.{kind}.{resource}"
                    );
                }
            }
            for probe in ["readinessProbe", "livenessProbe"] {
                let probe = &container[probe];
                let port = ["tcpSocket", "httpGet", "grpc"]
                    .iter()
                    .map(|kind| &probe[kind]["port"])
                    .find(|port| !port.is_null())
                    .unwrap_or_else(|| panic!("{name}: no probe port in {probe}"));
                assert!(has_container_port(deployment, port), "{name}: probe {port}");
            }
            let mounts = array(&container["volumeMounts"]);
            for mount in mounts {
                assert!(
                    array(&pod["volumes"])
                        .iter()
                        .any(|v| v["name"] == mount["name"]),
                    "{name}: mount {mount}"
                );
            }
            // Kubernetes expands $(VAR) only for variables defined earlier in the list.
            let mut defined = BTreeSet::new();
            for entry in array(&container["env"]) {
                let value = entry["value"].as_str().unwrap_or("");
                for reference in value.split("$(").skip(1) {
                    let variable = reference.split(')').next().unwrap();
                    assert!(
                        defined.contains(variable),
                        "{name}: {} uses $({variable}) before it is defined",
                        entry["name"]
                    );
                }
                defined.insert(str_of(&entry["name"]).to_owned());
            }
            // A file given with --config/--config.file is mounted from a ConfigMap key.
            let arguments = array(&container["args"])
                .iter()
                .chain(array(&container["command"]));
            for argument in arguments.filter_map(Json::as_str) {
                if let Some(file) = argument
                    .strip_prefix("--config=")
                    .or(argument.strip_prefix("--config.file="))
                {
                    let (directory, key) = file.rsplit_once('/').unwrap();
                    let mount = mounts
                        .iter()
                        .find(|m| m["mountPath"] == directory)
                        .unwrap_or_else(|| panic!("{name}: nothing mounted at {directory}"));
                    let volume = array(&pod["volumes"])
                        .iter()
                        .find(|v| v["name"] == mount["name"])
                        .unwrap();
                    let config_map = named(
                        &resources,
                        "ConfigMap",
                        str_of(&volume["configMap"]["name"]),
                    );
                    assert!(
                        config_map["data"][key].is_string(),
                        "{name}: no {key} in {}",
                        config_map["metadata"]["name"]
                    );
                }
            }
            if let Some(binary) = array(&container["command"]).first() {
                if image.contains("tonic-traced-examples") {
                    assert!(binaries.contains(str_of(binary)), "{name}: {binary}");
                }
            }
        }
    }
    for service in of_kind(&resources, "Service") {
        let name = str_of(&service["metadata"]["name"]);
        let selector = service["spec"]["selector"].as_object().unwrap();
        let target = deployments
            .iter()
            .find(|d| {
                let labels = &d["spec"]["template"]["metadata"]["labels"];
                selector.iter().all(|(key, value)| labels[key] == *value)
            })
            .unwrap_or_else(|| panic!("Service {name} selects no Deployment"));
        for port in array(&service["spec"]["ports"]) {
            assert!(
                has_container_port(target, &port["targetPort"]),
                "Service {name}: targetPort {} is no container port",
                port["targetPort"]
            );
        }
    }
    for binding in of_kind(&resources, "RoleBinding") {
        named(&resources, "Role", str_of(&binding["roleRef"]["name"]));
        for subject in array(&binding["subjects"]) {
            named(&resources, "ServiceAccount", str_of(&subject["name"]));
        }
    }
}

#[test]
fn services_are_configured_for_tracing() {
    if !tools_ready() {
        return;
    }
    let resources = resources();
    for name in APP_DEPLOYMENTS {
        let deployment = named(&resources, "Deployment", name);
        named(&resources, "Service", name);
        let container = &containers(deployment)[0];
        assert_eq!(env_literal(container, "OTEL_SERVICE_NAME"), name);
        // Every span goes to the collector: the tail tier keeps a tenth of the ordinary traces
        // (the Go tutorial's ratio) and every failed and slow one, which a head ratio would not.
        assert_eq!(env_literal(container, "OTEL_TRACES_SAMPLER"), HEAD_SAMPLER);
        assert!(
            env_value(container, "OTEL_TRACES_SAMPLER_ARG").is_none(),
            "{name}: no head ratio"
        );
        assert_eq!(
            env_literal(container, "OTEL_PROPAGATORS"),
            "tracecontext,baggage"
        );
        assert_eq!(
            env_literal(container, "OTEL_EXPORTER_OTLP_PROTOCOL"),
            "grpc"
        );
        let endpoint = env_literal(container, "OTEL_EXPORTER_OTLP_ENDPOINT");
        assert!(endpoint.starts_with("http://"), "{name}: {endpoint}");
        let (host, port) = host_port(endpoint);
        assert!(
            service_exposes(&resources, &host, port),
            "{name}: {endpoint}"
        );
        assert_eq!(port, 4317, "{name}: the gRPC OTLP port");
        // The first tier: the collector whose traces leave through the loadbalancing exporter.
        let collector = str_of(&selected_deployment(&resources, &host)["metadata"]["name"]);
        assert_eq!(
            trace_exporters(&deployment_config(&resources, collector)),
            BTreeSet::from(["loadbalancing".to_owned()]),
            "{name}: {endpoint} is not the first tier"
        );

        // k8s.namespace.name and k8s.pod.name come from the downward API.
        let attributes: BTreeMap<&str, &str> = env_literal(container, "OTEL_RESOURCE_ATTRIBUTES")
            .split(',')
            .map(|pair| pair.split_once('=').unwrap())
            .collect();
        for (attribute, field) in [
            ("k8s.namespace.name", "metadata.namespace"),
            ("k8s.pod.name", "metadata.name"),
        ] {
            let value = attributes
                .get(attribute)
                .unwrap_or_else(|| panic!("{name}: no {attribute}"));
            let variable = value
                .strip_prefix("$(")
                .and_then(|v| v.strip_suffix(')'))
                .unwrap_or_else(|| panic!("{name}: {attribute}={value}"));
            let entry = env_value(container, variable)
                .unwrap_or_else(|| panic!("{name}: {attribute} uses undefined $({variable})"));
            assert_eq!(entry["valueFrom"]["fieldRef"]["fieldPath"], field);
        }

        // Prometheus finds the pod's metrics endpoint through its annotations.
        let annotations = &deployment["spec"]["template"]["metadata"]["annotations"];
        assert_eq!(annotations["prometheus.io/scrape"], "true", "{name}");
        let metrics_port: u16 = str_of(&annotations["prometheus.io/port"]).parse().unwrap();
        assert!(
            has_container_port(deployment, &metrics_port.into()),
            "{name}"
        );
        assert_eq!(
            env_literal(container, "OTEL_METRICS_EXPORTER"),
            "prometheus"
        );
        assert_eq!(
            env_literal(container, "OTEL_EXPORTER_PROMETHEUS_HOST"),
            "0.0.0.0"
        );
        assert_eq!(
            env_literal(container, "OTEL_EXPORTER_PROMETHEUS_PORT"),
            metrics_port.to_string()
        );
    }
}

/// Checks that one collector configuration's pipelines use defined components, and every defined
/// one is used.
fn check_pipelines(config: &Json, what: &str) {
    let defined = |section: &str| -> BTreeSet<String> {
        config[section]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    let connectors = defined("connectors");
    let mut used: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let pipelines = config["service"]["pipelines"].as_object().unwrap();
    assert!(
        pipelines.contains_key("traces"),
        "{what}: no traces pipeline"
    );
    for (pipeline, spec) in pipelines {
        for section in ["receivers", "processors", "exporters"] {
            let names = array(&spec[section]);
            assert!(
                section == "processors" || !names.is_empty(),
                "{what}: {pipeline}: no {section}"
            );
            for component in names {
                let component = str_of(component).to_owned();
                let known = defined(section).contains(&component)
                    || (section != "processors" && connectors.contains(&component));
                assert!(
                    known,
                    "{what}: pipeline {pipeline}: {section} {component} is not defined"
                );
                used.entry(section).or_default().insert(component);
            }
        }
    }
    for section in ["receivers", "processors", "exporters"] {
        for component in defined(section) {
            assert!(
                used[section].contains(&component),
                "{what}: {section} {component} unused"
            );
        }
    }
    for connector in &connectors {
        assert!(
            used["exporters"].contains(connector) && used["receivers"].contains(connector),
            "{what}: connector {connector} must be an exporter of one pipeline and a receiver of another"
        );
    }
    let extensions = defined("extensions");
    for extension in array(&config["service"]["extensions"]) {
        assert!(
            extensions.contains(str_of(extension)),
            "{what}: extension {extension}"
        );
    }
}

#[test]
fn collector_pipelines_use_defined_components() {
    if !tools_ready() {
        return;
    }
    let resources = resources();
    let compose = compose();
    let first = collector_config(FIRST_TIER);
    let second = collector_config(SECOND_TIER);

    // The Kubernetes ConfigMaps embed the Compose stack's files: the second tier's verbatim, the
    // first tier's but for the loadbalancing resolver (Compose names the containers, Kubernetes
    // resolves a headless Service; checked by tier_one_routes_traces_to_the_tail_samplers).
    assert_eq!(
        deployment_config(&resources, "otel-collector-sampler"),
        second,
        "deploy/kubernetes/otel-collector-sampler.yaml and deploy/otel-collector/sampler.yaml differ"
    );
    assert_eq!(
        without_resolver(&deployment_config(&resources, "otel-collector")),
        without_resolver(&first),
        "deploy/kubernetes/otel-collector.yaml and deploy/otel-collector/config.yaml differ beyond \
         the loadbalancing resolver"
    );
    check_pipelines(&first, FIRST_TIER);
    check_pipelines(&second, SECOND_TIER);

    // The ports each tier listens on: bound on all interfaces (it runs in a container),
    // published by its Kubernetes Deployment and by each Compose service that runs it.
    let samplers = compose_services_running(&compose, SECOND_TIER);
    assert!(!samplers.is_empty(), "compose: nothing runs {SECOND_TIER}");
    let tiers = [
        (
            &first,
            "otel-collector",
            compose_services_running(&compose, FIRST_TIER),
        ),
        (&second, "otel-collector-sampler", samplers),
    ];
    for (config, deployment, services) in &tiers {
        assert!(
            !services.is_empty(),
            "compose: nothing runs {deployment}'s configuration"
        );
        let deployment = named(&resources, "Deployment", deployment);
        for (host, port) in listening(config) {
            assert_eq!(
                host, "0.0.0.0",
                "{host}:{port} is not reachable from other containers"
            );
            assert!(
                has_container_port(deployment, &port.into()),
                "k8s: {}: {port}",
                deployment["metadata"]["name"]
            );
            for service in services {
                assert!(
                    compose_exposes(&compose, service, port),
                    "compose: {service}: {port}"
                );
            }
        }
    }
    assert_eq!(
        tiers[0].2,
        BTreeSet::from(["otel-collector".to_owned()]),
        "compose: the first tier"
    );

    // Exporters reach backends that both deployments define.
    for config in [&first, &second] {
        for (name, exporter) in config["exporters"].as_object().unwrap() {
            if name == "otlp" || name.starts_with("otlp/") {
                let (host, port) = host_port(str_of(&exporter["endpoint"]));
                assert!(
                    service_exposes(&resources, &host, port),
                    "k8s: exporter {name}"
                );
                assert!(
                    compose_exposes(&compose, &host, port),
                    "compose: exporter {name}"
                );
            }
        }
    }
}

/// The collectors run their files' defaults: neither deployment sets an `OTELCOL_` variable,
/// which only the tests use (tests/tests/collector_tiers.rs), so the values the other checks
/// read (`as_deployed`) are the ones that run.
#[test]
fn collectors_run_their_files_defaults() {
    if !tools_ready() {
        return;
    }
    let resources = resources();
    for deployment in ["otel-collector", "otel-collector-sampler"] {
        for container in containers(named(&resources, "Deployment", deployment)) {
            for variable in array(&container["env"]) {
                let name = str_of(&variable["name"]);
                assert!(!name.starts_with("OTELCOL_"), "k8s: {deployment}: {name}");
            }
        }
    }
    let compose = compose();
    let collectors = compose_services_running(&compose, FIRST_TIER)
        .into_iter()
        .chain(compose_services_running(&compose, SECOND_TIER));
    for service in collectors {
        let environment = &compose["services"][&service]["environment"];
        if let Some(environment) = environment.as_object() {
            for name in environment.keys() {
                assert!(!name.starts_with("OTELCOL_"), "compose: {service}: {name}");
            }
        }
    }
}

/// The first tier sends every span of a trace to the same second-tier collector: the
/// loadbalancing exporter, routing by trace id, over exactly the tail-sampling collectors that
/// each deployment runs.
#[test]
fn tier_one_routes_traces_to_the_tail_samplers() {
    if !tools_ready() {
        return;
    }
    let resources = resources();
    let compose = compose();
    let second = collector_config(SECOND_TIER);
    let in_kubernetes = deployment_config(&resources, "otel-collector");
    let in_compose = collector_config(FIRST_TIER);
    for (what, config) in [("k8s", &in_kubernetes), ("compose", &in_compose)] {
        // No span leaves the first tier but through the load balancer (the spanmetrics
        // connector counts them all on the way).
        assert_eq!(
            trace_exporters(config),
            BTreeSet::from(["loadbalancing".to_owned()]),
            "{what}"
        );
        let balancer = &config["exporters"]["loadbalancing"];
        assert_eq!(balancer["routing_key"], "traceID", "{what}");
        let otlp = &balancer["protocol"]["otlp"];
        assert!(
            otlp["endpoint"].is_null(),
            "{what}: the resolver gives the endpoints"
        );
        // The second tier's receiver has no TLS.
        assert_eq!(otlp["tls"]["insecure"], true, "{what}");
    }
    assert!(second["receivers"]["otlp"]["protocols"]["grpc"]["tls"].is_null());
    // The second tier receives OTLP gRPC on this port.
    let grpc = host_port(str_of(
        &second["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"],
    ))
    .1;

    // Kubernetes: the DNS resolver, on a headless Service in front of the tail samplers.
    let resolver = in_kubernetes["exporters"]["loadbalancing"]["resolver"]
        .as_object()
        .unwrap();
    assert_eq!(resolver.keys().collect::<Vec<_>>(), ["dns"]);
    let dns = &resolver["dns"];
    let hostname = str_of(&dns["hostname"]);
    let mut labels = hostname.split('.');
    let service = labels.next().unwrap();
    if let Some(namespace) = labels.next() {
        assert_eq!(namespace, NAMESPACE, "{hostname}");
    }
    let port = match &dns["port"] {
        Json::Null => 4317, // the resolver's default
        port => port
            .as_u64()
            .or_else(|| port.as_str().and_then(|p| p.parse().ok()))
            .unwrap() as u16,
    };
    assert_eq!(port, grpc, "k8s: the resolver's port");
    assert_eq!(
        named(&resources, "Service", service)["spec"]["clusterIP"],
        "None",
        "{service} must be headless: the DNS resolver needs every pod's address, not one virtual IP"
    );
    assert!(
        service_exposes(&resources, service, port),
        "{service}:{port}"
    );
    let samplers = selected_deployment(&resources, service);
    assert_eq!(
        deployment_config(&resources, str_of(&samplers["metadata"]["name"])),
        second,
        "{service} selects pods that do not run {SECOND_TIER}"
    );

    // Compose: the static resolver, naming every tail-sampling container and only those.
    let resolver = in_compose["exporters"]["loadbalancing"]["resolver"]
        .as_object()
        .unwrap();
    assert_eq!(resolver.keys().collect::<Vec<_>>(), ["static"]);
    let mut hosts = BTreeSet::new();
    for hostname in array(&resolver["static"]["hostnames"]) {
        let (host, port) = host_port(str_of(hostname));
        assert_eq!(port, grpc, "compose: {hostname}");
        assert!(
            compose_exposes(&compose, &host, port),
            "compose: {hostname}"
        );
        assert!(hosts.insert(host), "compose: {hostname} twice");
    }
    assert_eq!(hosts, compose_services_running(&compose, SECOND_TIER));
}

/// The second tier keeps every trace with an error, every trace of 1 s or more and a tenth of
/// the rest, and sends what it keeps to Jaeger.
#[test]
fn tail_sampling_keeps_errors_slow_calls_and_a_tenth() {
    if !tools_ready() {
        return;
    }
    let config = collector_config(SECOND_TIER);
    let traces = &config["service"]["pipelines"]["traces"];
    assert_eq!(
        traces["processors"],
        serde_json::json!(["memory_limiter", "tail_sampling", "batch"])
    );
    let tail = &config["processors"]["tail_sampling"];
    assert_eq!(
        tail["policies"],
        serde_json::json!([
            {"name": "errors", "type": "status_code", "status_code": {"status_codes": ["ERROR"]}},
            {"name": "slow", "type": "latency", "latency": {"threshold_ms": 1000}},
            {
                "name": "ten-percent",
                "type": "probabilistic",
                "probabilistic": {"sampling_percentage": 10}
            },
        ])
    );
    // Longer than the examples' longest call (payment-client's 5 s deadline) plus the services'
    // export delay (5 s) and tier one's batch timeout (1 s): a trace is complete when it is
    // decided.
    assert_eq!(tail["decision_wait"], "15s");
    assert_eq!(tail["num_traces"], 30000);
    assert_eq!(
        trace_exporters(&config),
        BTreeSet::from(["otlp/jaeger".to_owned(), "debug".to_owned()])
    );
    assert_eq!(
        host_port(str_of(&config["exporters"]["otlp/jaeger"]["endpoint"])),
        ("jaeger".to_owned(), 4317)
    );
}

/// Checks a Prometheus configuration's jobs; `reachable` says whether host:port exists.
fn check_prometheus(config: &Json, what: &str, reachable: impl Fn(&str, u16) -> bool) {
    let jobs = array(&config["scrape_configs"]);
    let mut names = BTreeSet::new();
    for job in jobs {
        let name = str_of(&job["job_name"]);
        assert!(names.insert(name), "{what}: job {name} twice");
        for group in array(&job["static_configs"]) {
            for target in array(&group["targets"]) {
                let (host, port) = host_port(str_of(target));
                assert!(
                    (host == "localhost" && port == 9090) || reachable(&host, port),
                    "{what}: job {name} scrapes {target}, which is not defined"
                );
            }
        }
    }
    for required in ["otel-collector", "otel-collector-metrics"] {
        assert!(names.contains(required), "{what}: no job {required}");
    }
}

#[test]
fn prometheus_scrapes_what_is_deployed() {
    if !tools_ready() {
        return;
    }
    let resources = resources();
    let config_map = named(&resources, "ConfigMap", "prometheus-config");
    let config = yaml_text(str_of(&config_map["data"]["prometheus.yml"]));
    check_prometheus(&config, "kubernetes", |host, port| {
        service_exposes(&resources, host, port)
    });
    // The application pods are discovered in the manifests' namespace by annotation.
    let discovery = array(&config["scrape_configs"])
        .iter()
        .find(|job| job["kubernetes_sd_configs"].is_array())
        .expect("a kubernetes_sd_configs job for the annotated pods");
    let sd = &discovery["kubernetes_sd_configs"][0];
    assert_eq!(sd["role"], "pod");
    assert!(array(&sd["namespaces"]["names"]).contains(&NAMESPACE.into()));
    let keeps_annotated = array(&discovery["relabel_configs"]).iter().any(|rule| {
        rule["action"] == "keep"
            && array(&rule["source_labels"])
                .contains(&"__meta_kubernetes_pod_annotation_prometheus_io_scrape".into())
    });
    assert!(
        keeps_annotated,
        "the pod job keeps only prometheus.io/scrape pods"
    );

    let compose = compose();
    let config = yaml_file(&deploy("prometheus/prometheus.yml")).remove(0);
    check_prometheus(&config, "compose", |host, port| {
        compose_exposes(&compose, host, port)
    });
    let samplers = compose_services_running(&compose, SECOND_TIER);
    for service in APP_DEPLOYMENTS
        .iter()
        .copied()
        .chain(samplers.iter().map(String::as_str))
    {
        let scraped = array(&config["scrape_configs"]).iter().any(|job| {
            array(&job["static_configs"]).iter().any(|group| {
                array(&group["targets"])
                    .iter()
                    .any(|t| host_port(str_of(t)).0 == service)
            })
        });
        assert!(scraped, "compose: {service} is not scraped");
    }

    // Kubernetes: the tail samplers' own metrics, through the pod job's annotations.
    let deployment = named(&resources, "Deployment", "otel-collector-sampler");
    let annotations = &deployment["spec"]["template"]["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/scrape"], "true");
    let port: u16 = str_of(&annotations["prometheus.io/port"]).parse().unwrap();
    assert!(listening(&collector_config(SECOND_TIER)).contains(&("0.0.0.0".to_owned(), port)));
    assert!(has_container_port(deployment, &port.into()));
}

#[test]
fn payment_client_job_calls_the_payment_service() {
    if !tools_ready() {
        return;
    }
    let resources = resources();
    let job = named(&resources, "Job", "payment-client");
    let container = &array(&job["spec"]["template"]["spec"]["containers"])[0];
    let command = array(&container["command"]);
    assert!(
        known_binaries().contains(str_of(&command[0])),
        "payment-client: {}",
        command[0]
    );
    let (host, port) = host_port(str_of(&command[1]));
    assert!(
        service_exposes(&resources, &host, port),
        "payment-client: {}",
        command[1]
    );
    let (host, port) = host_port(env_literal(container, "OTEL_EXPORTER_OTLP_ENDPOINT"));
    assert!(
        service_exposes(&resources, &host, port),
        "payment-client: {host}:{port}"
    );
    assert_eq!(
        env_literal(container, "OTEL_SERVICE_NAME"),
        "payment-client"
    );
    // The client is the root of its trace: it sends every span, the tail tier decides, and the
    // payment is a cross-border one (over 1 s), which the tail sampler's `slow` policy keeps.
    assert_eq!(env_literal(container, "OTEL_TRACES_SAMPLER"), HEAD_SAMPLER);
    assert!(env_value(container, "OTEL_TRACES_SAMPLER_ARG").is_none());
    assert_eq!(command[2..], ["250", "EUR"]);
}

#[test]
fn compose_file_matches_the_compose_specification() {
    if !tools_ready() {
        return;
    }
    let file = deploy("docker-compose.yaml");
    let output = run(Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.compose-spec"])
        .arg(&file));
    assert_success(&output, "check-jsonschema vendor.compose-spec");

    let compose = compose();
    let services = compose["services"].as_object().unwrap();
    let binaries = known_binaries();
    for required in ["otel-collector", "jaeger", "prometheus", "demo"] {
        assert!(services.contains_key(required), "no service {required}");
    }
    for service in APP_DEPLOYMENTS {
        assert!(services.contains_key(service), "no service {service}");
    }
    for (name, service) in services {
        let image = str_of(&service["image"]);
        let tag = image.rsplit_once(':').map(|(_, tag)| tag).unwrap_or("");
        assert!(
            !tag.is_empty() && tag != "latest",
            "{name}: pin the image: {image}"
        );
        for dependency in array(&service["depends_on"]) {
            assert!(
                services.contains_key(str_of(dependency)),
                "{name}: {dependency}"
            );
        }
        for volume in array(&service["volumes"]) {
            let source = str_of(volume).split(':').next().unwrap();
            if source.starts_with('.') {
                assert!(deploy(source).exists(), "{name}: {source} does not exist");
            }
        }
        if let Some(build) = service.get("build") {
            let context = deploy(str_of(&build["context"]));
            assert!(
                context.join(str_of(&build["dockerfile"])).is_file(),
                "{name}: {build}"
            );
        }
        if image.starts_with("tonic-traced-examples") {
            let binary = str_of(&service["command"][0]);
            assert!(binaries.contains(binary), "{name}: {binary}");
            let environment = &service["environment"];
            let endpoint = str_of(&environment["OTEL_EXPORTER_OTLP_ENDPOINT"]);
            let (host, port) = host_port(endpoint);
            assert!(compose_exposes(&compose, &host, port), "{name}: {endpoint}");
            assert!(
                compose_services_running(&compose, FIRST_TIER).contains(&host),
                "{name}: {endpoint} is not the first tier"
            );
            assert!(environment["OTEL_SERVICE_NAME"].is_string(), "{name}");
            assert_eq!(environment["OTEL_TRACES_SAMPLER"], HEAD_SAMPLER, "{name}");
            assert!(
                environment["OTEL_TRACES_SAMPLER_ARG"].is_null(),
                "{name}: no head ratio"
            );
        }
    }
    for (name, secret) in compose["secrets"].as_object().into_iter().flatten() {
        let file = str_of(&secret["file"]);
        assert!(
            deploy(file).is_file(),
            "secret {name}: {file} does not exist"
        );
    }
    // The client calls a service of the stack on a port it exposes.
    let client = &services["payment-client"];
    let (host, port) = host_port(str_of(&client["command"][1]));
    assert!(
        compose_exposes(&compose, &host, port),
        "payment-client: {client}"
    );
    // The image the application services run is the one built here, in Kubernetes too (which
    // cannot build it: deploy/README.md says how to load or push it).
    let image = &services["payment-service"]["image"];
    assert!(services
        .values()
        .any(|s| s.get("build").is_some() && s["image"] == *image));
    let resources = resources();
    let workloads = of_kind(&resources, "Deployment")
        .into_iter()
        .chain(of_kind(&resources, "Job"));
    let mut runs_it = 0;
    for workload in workloads {
        for container in array(&workload["spec"]["template"]["spec"]["containers"]) {
            if str_of(&container["image"]).contains("tonic-traced-examples") {
                assert_eq!(
                    container["image"], *image,
                    "{}",
                    workload["metadata"]["name"]
                );
                runs_it += 1;
            }
        }
    }
    assert_eq!(
        runs_it,
        APP_DEPLOYMENTS.len() + 1,
        "the services and the payment-client Job"
    );
}

/// The key of `redact: HASH` is one Secret, mounted as a file into every service (and the
/// client, whose CLIENT span hashes the same field) with TONIC_TRACED_HASH_KEY_FILE naming it;
/// what is committed is a placeholder.
#[test]
fn hash_key_is_a_secret_file_in_every_service() {
    if !tools_ready() {
        return;
    }
    let resources = resources();
    let (secret_name, key) = HASH_KEY_SECRET;
    let secret = named(&resources, "Secret", secret_name);
    let placeholder = str_of(&secret["stringData"][key]);
    assert!(
        placeholder.starts_with(HASH_KEY_PLACEHOLDER),
        "{secret_name}: commit a placeholder, never the real key"
    );
    let job = named(&resources, "Job", "payment-client");
    let workloads = APP_DEPLOYMENTS
        .iter()
        .map(|name| named(&resources, "Deployment", name))
        .chain([job]);
    for workload in workloads {
        let name = str_of(&workload["metadata"]["name"]);
        let pod = &workload["spec"]["template"]["spec"];
        let container = &array(&pod["containers"])[0];
        assert!(
            env_value(container, "TONIC_TRACED_HASH_KEY").is_none(),
            "{name}: the key is a file, not a variable"
        );
        let file = env_literal(container, "TONIC_TRACED_HASH_KEY_FILE");
        let (directory, file_name) = file.rsplit_once('/').unwrap();
        let mount = array(&container["volumeMounts"])
            .iter()
            .find(|m| m["mountPath"] == directory)
            .unwrap_or_else(|| panic!("{name}: nothing mounted at {directory}"));
        assert_eq!(mount["readOnly"], true, "{name}");
        let volume = array(&pod["volumes"])
            .iter()
            .find(|v| v["name"] == mount["name"])
            .unwrap_or_else(|| panic!("{name}: no volume {}", mount["name"]));
        assert_eq!(volume["secret"]["secretName"], secret_name, "{name}");
        // Without items, every key of the Secret is a file named after it.
        assert!(volume["secret"]["items"].is_null(), "{name}");
        assert_eq!(file_name, key, "{name}");
        // Readable by the service's user: by its group, which owns the file (fsGroup).
        let mode = volume["secret"]["defaultMode"].as_u64().unwrap_or(0o644);
        let security = &pod["securityContext"];
        assert!(
            mode & 0o004 != 0
                || (mode & 0o040 != 0 && security["fsGroup"] == security["runAsGroup"]),
            "{name}: the key file (mode {mode:o}) is not readable by the service"
        );
    }

    // Compose: a secret file, mounted at /run/secrets/<name>.
    let compose = compose();
    let file = str_of(&compose["secrets"][HASH_KEY_COMPOSE_SECRET]["file"]);
    let committed = std::fs::read_to_string(deploy(file)).unwrap();
    assert_eq!(
        committed.trim_end(),
        placeholder,
        "{file}: the same placeholder"
    );
    for service in APP_DEPLOYMENTS.into_iter().chain(["payment-client"]) {
        let spec = &compose["services"][service];
        assert_eq!(
            spec["secrets"],
            serde_json::json!([HASH_KEY_COMPOSE_SECRET]),
            "compose: {service}"
        );
        assert_eq!(
            spec["environment"]["TONIC_TRACED_HASH_KEY_FILE"],
            format!("/run/secrets/{HASH_KEY_COMPOSE_SECRET}"),
            "compose: {service}"
        );
        assert!(spec["environment"]["TONIC_TRACED_HASH_KEY"].is_null());
    }
}

/// The edge service (the one untrusted callers reach) does not let its callers choose sampling;
/// inner services follow their callers.
#[test]
fn only_the_edge_is_a_public_endpoint() {
    if !tools_ready() {
        return;
    }
    let (edge, proto_service) = EDGE;
    let (package, service) = proto_service.rsplit_once('.').unwrap();
    let proto = std::fs::read_to_string(repo().join("examples/proto/payment.proto")).unwrap();
    assert!(
        proto.contains(&format!("package {package};"))
            && proto.contains(&format!("service {service} {{")),
        "{proto_service} is not a service of examples/proto/payment.proto"
    );
    let resources = resources();
    let compose = compose();
    for name in APP_DEPLOYMENTS {
        let container = &containers(named(&resources, "Deployment", name))[0];
        let in_kubernetes = env_value(container, "TONIC_TRACED_PUBLIC_ENDPOINTS");
        let in_compose = &compose["services"][name]["environment"]["TONIC_TRACED_PUBLIC_ENDPOINTS"];
        if name == edge {
            assert_eq!(
                in_kubernetes.unwrap()["value"],
                proto_service,
                "k8s: {name}"
            );
            assert_eq!(*in_compose, proto_service, "compose: {name}");
        } else {
            assert!(in_kubernetes.is_none(), "k8s: {name} is an inner service");
            assert!(in_compose.is_null(), "compose: {name} is an inner service");
        }
    }
}

#[test]
fn dockerfile_builds_the_examples() {
    if !tools_ready() {
        return;
    }
    let script = "import json, sys, dockerfile\n\
                  print(json.dumps([c._asdict() for c in dockerfile.parse_file(sys.argv[1])]))";
    let path = deploy("Dockerfile");
    let commands = python_json(script, &[path.to_str().unwrap()], None);
    let commands = commands.as_array().unwrap();
    let of = |cmd: &str| -> Vec<&Json> { commands.iter().filter(|c| c["cmd"] == cmd).collect() };
    let froms = of("FROM");
    assert!(froms.len() >= 2, "a multi-stage build");
    let builder = array(&froms[0]["value"]);
    assert!(str_of(&builder[0]).starts_with("rust:1.95"), "{builder:?}");
    let stage = str_of(builder.last().unwrap());
    assert!(!str_of(&froms.last().unwrap()["value"][0]).starts_with("rust:"));
    let builds = of("RUN").into_iter().any(|run| {
        let text = str_of(&run["value"][0]);
        text.contains("cargo build --release") && text.contains("-p tonic-traced-examples")
    });
    assert!(
        builds,
        "the builder runs cargo build --release -p tonic-traced-examples"
    );
    let copies = of("COPY")
        .into_iter()
        .any(|copy| array(&copy["flags"]).contains(&format!("--from={stage}").into()));
    assert!(copies, "the runtime stage copies the binaries from {stage}");
    let user = of("USER");
    let user = str_of(&user.last().expect("a non-root USER")["value"][0]);
    assert!(
        !user.starts_with("root") && !user.starts_with("0"),
        "{user}"
    );
    let cmd = of("CMD");
    let binary = str_of(&cmd.last().expect("a CMD")["value"][0]);
    assert!(known_binaries().contains(binary), "{binary}");
    assert!(
        repo()
            .join(format!("examples/src/bin/{binary}.rs"))
            .is_file(),
        "the default command is a binary that exists today"
    );
}
