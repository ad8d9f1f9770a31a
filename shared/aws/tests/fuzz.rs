//! Fuzz targets for everything that reads untrusted input: the OpenSLO loader
//! and both event parsers. Under `cargo test` bolero runs each for a bounded
//! number of generated inputs (plus every file in `tests/__fuzz__/<target>/crashes`,
//! kept as regression tests); under `cargo bolero test <target>` they run under libFuzzer.
//! The property: any input ends in a value or a clear error, never a panic.

use sloguard_aws::events::alarm::parse_alarm_payload;
use sloguard_aws::events::change::parse_change_event;
use sloguard_aws::events::schedule::parse_schedule;
use sloguard_aws::events::shard::{order_body, parse_order};
use sloguard_core::app::events::Parsed;
use sloguard_core::slo::change::parse_target;
use sloguard_core::slo::load::{load, SourceFile};

const SEEDS: [&str; 4] = [
    include_str!("../../../examples/slos/checkout-availability.yaml"),
    include_str!("../../../examples/slos/premium-support.yaml"),
    include_str!("../../../examples/slos/alerting.yaml"),
    include_str!("../../../examples/slos/help-center-monthly.yaml"),
];

/// Splice the fuzz bytes into a real SLO file, so inputs stay close to valid YAML.
fn mutate(seed: &str, bytes: &[u8]) -> String {
    let at = bytes.first().map_or(0, |b| *b as usize * seed.len() / 256);
    let cut = bytes.get(1).map_or(0, |b| *b as usize % 16);
    let mut at = at.min(seed.len());
    while !seed.is_char_boundary(at) {
        at -= 1;
    }
    let mut end = (at + cut).min(seed.len());
    while !seed.is_char_boundary(end) {
        end -= 1;
    }
    let insert = String::from_utf8_lossy(bytes.get(2..).unwrap_or_default());
    format!("{}{}{}", &seed[..at], insert, &seed[end..])
}

/// Lines as a YAML parser (and most editors) count them: `\n`, `\r\n` and a lone `\r` all end a line.
fn line_count(text: &str) -> usize {
    text.replace("\r\n", "\n")
        .split(['\n', '\r'])
        .count()
        .max(1)
}

/// Found by fuzz_openslo_loader: lone carriage returns are line breaks to the YAML
/// scanner, so a problem may sit on a line that `str::lines` does not count.
#[test]
fn regression_lone_carriage_returns_point_at_a_real_line() {
    let text = "apiVersion: openslo/v1\rkind: SLO\rmetadata: [\r";
    let loaded = load(&[SourceFile {
        name: "cr.yaml".into(),
        text: text.into(),
    }]);
    assert!(!loaded.problems.is_empty());
    for p in &loaded.problems {
        assert!(p.line >= 1 && p.line <= line_count(text), "{p}");
    }
}

#[test]
fn fuzz_openslo_loader() {
    bolero::check!()
        .with_iterations(3000)
        .for_each(|bytes: &[u8]| {
            let which = bytes.first().map_or(0, |b| *b as usize % SEEDS.len());
            let raw = String::from_utf8_lossy(bytes).to_string();
            for text in [raw, mutate(SEEDS[which], bytes)] {
                let loaded = load(&[SourceFile {
                    name: "fuzz.yaml".into(),
                    text: text.clone(),
                }]);
                let lines = line_count(&text);
                for p in &loaded.problems {
                    assert!(p.line >= 1 && p.line <= lines, "{p} (of {lines} lines)");
                    assert!(!p.message.is_empty());
                }
            }
        });
}

#[test]
fn fuzz_alarm_event_parser() {
    let seeds: Vec<String> = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/events"
    ))
    .unwrap()
    .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
    .collect();
    bolero::check!()
        .with_iterations(3000)
        .for_each(|bytes: &[u8]| {
            let which = bytes.first().map_or(0, |b| *b as usize % seeds.len());
            for text in [
                String::from_utf8_lossy(bytes).to_string(),
                mutate(&seeds[which], bytes),
            ] {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                    match parse_alarm_payload(&v) {
                        Ok(alarms) => {
                            assert!(!alarms.is_empty() && alarms.iter().all(|a| !a.name.is_empty()))
                        }
                        Err(e) => assert!(!e.0.is_empty()),
                    }
                    // The deployment-event reader shares the seeds (examples/events/change-*.json).
                    match parse_change_event(&v) {
                        Ok(Parsed::Change(c)) => {
                            assert!(parse_target(&c.target).is_ok() && !c.link.is_empty())
                        }
                        Ok(Parsed::Ignored(why)) => assert!(!why.is_empty()),
                        Ok(Parsed::Refused(why)) => assert!(!why.to_string().is_empty()),
                        Err(e) => assert!(!e.to_string().is_empty()),
                    }
                }
            }
        });
}

#[test]
fn fuzz_schedule_event_parser() {
    let seed = include_str!("../../../examples/events/scheduled-event.json");
    bolero::check!()
        .with_iterations(3000)
        .for_each(|bytes: &[u8]| {
            for text in [
                String::from_utf8_lossy(bytes).to_string(),
                mutate(seed, bytes),
            ] {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
                    if let Ok(s) = parse_schedule(&v) {
                        assert!(v.get("shard").is_none(), "shards are the dispatcher's");
                        if let Some(t) = s.time {
                            assert!(v.to_string().contains("time"), "{t} from nowhere");
                        }
                    }
                }
            }
        });
}

#[test]
fn fuzz_shard_order_parser() {
    let seed = r#"{"cycle":1800000000,"shard":1,"of":4,"from":"slo-03","until":"slo-06"}"#;
    bolero::check!()
        .with_iterations(3000)
        .for_each(|bytes: &[u8]| {
            for text in [
                String::from_utf8_lossy(bytes).to_string(),
                mutate(seed, bytes),
            ] {
                if let Ok(o) = parse_order(&text) {
                    assert!(o.index < o.of, "{text}");
                    assert_eq!(parse_order(&order_body(&o)).as_ref(), Ok(&o), "{text}");
                }
            }
        });
}
