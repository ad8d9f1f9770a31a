//! A snapshot: one SLO at one evaluation time, as history stores it and as
//! `status --json` and `history --json` print it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::slo::evaluate::Evaluation;
use crate::slo::message::{rfc3339, AlarmNote};
use crate::slo::model::{Op, Severity, SloDefinition};
use crate::slo::status::{Announcement, Status, StatusChange};

/// Days a snapshot that is not an hourly checkpoint is kept: every cycle for two weeks
/// (what incident reviews zoom into), one an hour for the full retention.
pub const RECENT_HISTORY_DAYS: i64 = 15;

/// One burn-rate condition at a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionView {
    pub name: String,
    /// Page or ticket: a stored item with anything else is refused on reading.
    pub severity: Severity,
    pub long_window: String,
    pub short_window: String,
    pub long_burn_rate: Option<f64>,
    pub short_burn_rate: Option<f64>,
    /// How the burn rates compare with the threshold (snapshots written before it was kept: `gt`).
    #[serde(default = "greater")]
    pub op: Op,
    pub threshold: f64,
    pub met: bool,
}

fn greater() -> Op {
    Op::Gt
}

/// A time history stores as RFC 3339 text and code reads as epoch seconds; reading
/// refuses text that is not a time, so a stored item cannot smuggle anything else in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredTime(pub i64);

impl std::fmt::Display for StoredTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&rfc3339(self.0))
    }
}

impl Serialize for StoredTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339(self.0))
    }
}

/// Epoch seconds of RFC 3339 `text`, or an error naming the text.
fn read_time<E: serde::de::Error>(text: &str) -> Result<i64, E> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp())
        .map_err(|_| E::custom(format!("`{text}` is not an RFC 3339 time")))
}

impl<'de> Deserialize<'de> for StoredTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        read_time(&text).map(StoredTime)
    }
}

/// `evaluated_at` as stored: kept as written (it is the item's sort key), refused
/// unless it is an RFC 3339 time.
fn evaluation_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let text = String::deserialize(d)?;
    read_time::<D::Error>(&text)?;
    Ok(text)
}

/// The contract's status object, plus counts and conditions for people who dig.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub slo: String,
    pub service: String,
    pub objective: f64,
    pub window: String,
    /// RFC 3339 (reading refuses anything else).
    #[serde(deserialize_with = "evaluation_time")]
    pub evaluated_at: String,
    pub status: Status,
    pub attainment: Option<f64>,
    pub budget_remaining: Option<f64>,
    pub burn_rates: BTreeMap<String, Option<f64>>,
    pub exhausts_at: Option<StoredTime>,
    pub good: f64,
    pub total: f64,
    pub conditions: Vec<ConditionView>,
    /// "ok -> breaching" when this evaluation changed the announced status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    /// The alarm transition that triggered this evaluation, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<AlarmNote>,
    /// What this evaluation told people (`page: opened`), silenced ones marked `(silenced)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notifications: Vec<String>,
}

impl Snapshot {
    /// Build from an evaluation and what the status rules decided.
    pub fn new(
        slo: &SloDefinition,
        eval: &Evaluation,
        status: Status,
        change: Option<&StatusChange>,
        announcements: &[Announcement],
        alarm: Option<&AlarmNote>,
    ) -> Self {
        Snapshot {
            slo: slo.name.clone(),
            service: slo.service.clone(),
            objective: slo.objective.target,
            window: slo.window_label(),
            evaluated_at: rfc3339(eval.evaluated_at),
            status,
            attainment: eval.attainment,
            budget_remaining: eval.budget_remaining,
            burn_rates: eval
                .windows
                .iter()
                .map(|w| (w.label.clone(), w.burn_rate))
                .collect(),
            exhausts_at: eval.exhausts_at.map(StoredTime),
            good: eval.good,
            total: eval.total,
            conditions: eval
                .conditions
                .iter()
                .map(|c| ConditionView {
                    name: c.name.clone(),
                    severity: c.severity,
                    long_window: c.long.clone(),
                    short_window: c.short.clone(),
                    long_burn_rate: c.long_rate,
                    short_burn_rate: c.short_rate,
                    op: c.op,
                    threshold: c.threshold,
                    met: c.met,
                })
                .collect(),
            change: change.map(ToString::to_string),
            alarm: alarm.cloned(),
            notifications: announcements.iter().map(Announcement::label).collect(),
        }
    }
}

/// Runs `f` on each burn rate of each condition of the snapshot JSON `v`, with the rate's
/// field name and the rate `burn_rates` shows for the condition's window: what the stored
/// form leaves out on writing and fills in on reading.
fn each_condition_rate(
    v: &mut Value,
    mut f: impl FnMut(&mut serde_json::Map<String, Value>, &str, Option<&Value>),
) {
    let rates = v.get("burn_rates").cloned().unwrap_or_default();
    let Some(conditions) = v.get_mut("conditions").and_then(Value::as_array_mut) else {
        return;
    };
    for c in conditions.iter_mut().filter_map(Value::as_object_mut) {
        for (rate, window) in [
            ("long_burn_rate", "long_window"),
            ("short_burn_rate", "short_window"),
        ] {
            let w = c.get(window).and_then(Value::as_str).unwrap_or_default();
            let shown = rates.get(w).cloned();
            f(c, rate, shown.as_ref());
        }
    }
}

impl Snapshot {
    /// The JSON history stores: what each condition repeats from `burn_rates` and the
    /// default `op` are left out, so a snapshot fits in one DynamoDB write unit (1 KB).
    pub fn to_stored(&self) -> String {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        each_condition_rate(&mut v, |c, rate, shown| {
            if shown.is_some_and(|r| Some(r) == c.get(rate)) {
                c.remove(rate);
            }
        });
        if let Some(conditions) = v.get_mut("conditions").and_then(Value::as_array_mut) {
            for c in conditions.iter_mut().filter_map(Value::as_object_mut) {
                if c.get("op").and_then(Value::as_str) == Some("gt") {
                    c.remove("op");
                }
            }
        }
        v.to_string()
    }

    /// Read what `to_stored` wrote (or a snapshot stored whole, as older versions did).
    pub fn from_stored(text: &str) -> Result<Snapshot, serde_json::Error> {
        let mut v: Value = serde_json::from_str(text)?;
        each_condition_rate(&mut v, |c, rate, shown| {
            if !c.contains_key(rate) {
                c.insert(rate.to_string(), shown.cloned().unwrap_or(Value::Null));
            }
        });
        serde_json::from_value(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        serde_json::from_str(r#"{"slo":"slo-00000","service":"service-000","objective":0.999,"window":"30d","evaluated_at":"2026-11-25T11:58:00Z","status":"ok","attainment":0.9996370445469974,"budget_remaining":0.637044546997473,"burn_rates":{"1h":0.33134526176270523,"30m":0.33130135170955616,"3d":0.3609671949351686,"5m":0.3970617431010567,"6h":null},"exhausts_at":null,"good":42772090.0,"total":42787620.0,"conditions":[{"name":"page-1h","severity":"page","long_window":"1h","short_window":"5m","long_burn_rate":0.33134526176270523,"short_burn_rate":0.3970617431010567,"op":"gt","threshold":14.4,"met":false},{"name":"page-6h","severity":"page","long_window":"6h","short_window":"30m","long_burn_rate":null,"short_burn_rate":0.33130135170955616,"op":"gte","threshold":6.0,"met":false},{"name":"odd","severity":"ticket","long_window":"2d","short_window":"6h","long_burn_rate":0.5,"short_burn_rate":0.25,"op":"gt","threshold":1.0,"met":true}]}"#).unwrap()
    }

    #[test]
    fn the_stored_form_is_smaller_and_reads_back_the_same() {
        let snap = sample();
        let stored = snap.to_stored();
        let whole = serde_json::to_string(&snap).unwrap();
        assert!(
            stored.len() + 150 < whole.len(),
            "{} vs {}",
            stored.len(),
            whole.len()
        );
        assert_eq!(Snapshot::from_stored(&stored).unwrap(), snap);
        // older items hold the whole snapshot
        assert_eq!(Snapshot::from_stored(&whole).unwrap(), snap);
        // a rate the map does not show (no such window, or a different number) is kept
        assert!(stored.contains("\"long_burn_rate\":0.5"), "{stored}");
        assert!(stored.contains("\"op\":\"gte\""), "{stored}");
    }

    #[test]
    fn unreadable_stored_snapshots_are_errors_not_panics() {
        assert!(Snapshot::from_stored("{").is_err());
        assert!(Snapshot::from_stored("[1,2]").is_err());
        assert!(Snapshot::from_stored(r#"{"conditions": 3}"#).is_err());
    }

    #[test]
    fn stored_fields_with_a_closed_set_of_values_refuse_anything_else() {
        let stored = sample().to_stored();
        let hostile = "<script>alert(1)</script>";
        for (field, good) in [
            (r#""severity":"page""#, "severity"),
            (r#""status":"ok""#, "status"),
            (r#""evaluated_at":"2026-11-25T11:58:00Z""#, "evaluated_at"),
        ] {
            assert!(stored.contains(field), "{field}");
            let bad = stored.replacen(field, &format!(r#""{good}":"{hostile}""#), 1);
            let err = Snapshot::from_stored(&bad).unwrap_err().to_string();
            assert!(err.contains("<script>"), "{good}: {err}");
        }
        let bad = stored.replace(
            r#""exhausts_at":null"#,
            &format!(r#""exhausts_at":"{hostile}""#),
        );
        assert_ne!(bad, stored);
        let err = Snapshot::from_stored(&bad).unwrap_err().to_string();
        assert!(err.contains("is not an RFC 3339 time"), "{err}");
        // A real time reads back as a time, and is written as it was.
        let at = stored.replace(
            r#""exhausts_at":null"#,
            r#""exhausts_at":"2026-11-26T01:00:00Z""#,
        );
        let snap = Snapshot::from_stored(&at).unwrap();
        assert_eq!(
            snap.exhausts_at.map(|t| t.to_string()).as_deref(),
            Some("2026-11-26T01:00:00Z")
        );
        assert_eq!(snap.to_stored(), at);
    }
}
