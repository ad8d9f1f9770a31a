//! Shard orders as they travel on the shard queue: a small JSON body, read strictly (every
//! field checked, nothing else accepted), so a message that is not an order is refused
//! naming what is wrong. An order that reads well is still checked against the cycle's
//! record by `app::fanout::run_shard`, so only a cut this stack's dispatcher recorded is
//! ever run.

use serde::{Deserialize, Serialize};

use sloguard_core::app::events::EventError;
use sloguard_core::app::fanout::ShardOrder;
use sloguard_core::slo::shard::NameRange;

/// Largest order body read: a real one is under 1 KB (two SLO names and three numbers).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Longest SLO name an order may carry (definitions are far shorter).
const MAX_NAME_CHARS: usize = 1024;
/// Shards a cycle may have (100,000 SLOs in shards of 1 would be 100,000).
const MAX_SHARDS: u32 = 1_000_000;

/// An order as it travels on the queue.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    cycle: i64,
    shard: u32,
    of: u32,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    until: Option<String>,
}

/// The message body of a shard order.
pub fn order_body(o: &ShardOrder) -> String {
    serde_json::to_string(&Body {
        cycle: o.cycle,
        shard: o.index,
        of: o.of,
        from: o.range.from.clone(),
        until: o.range.until.clone(),
    })
    .expect("an order serializes")
}

/// Read a shard order's body: every field checked, nothing else accepted.
pub fn parse_order(body: &str) -> Result<ShardOrder, EventError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(EventError(format!(
            "order body is {} bytes; at most {MAX_BODY_BYTES}",
            body.len()
        )));
    }
    let b: Body = serde_json::from_str(body)
        .map_err(|e| EventError(format!("order body is not a shard order: {e}")))?;
    if !(1..100_000_000_000).contains(&b.cycle) {
        return Err(EventError(format!(
            "cycle {} is not a trigger time in epoch seconds",
            b.cycle
        )));
    }
    if b.of == 0 || b.of > MAX_SHARDS || b.shard >= b.of {
        return Err(EventError(format!(
            "shard {} of {} is not a shard (0 <= shard < of <= {MAX_SHARDS})",
            b.shard, b.of
        )));
    }
    for (field, v) in [("from", &b.from), ("until", &b.until)] {
        if let Some(v) = v {
            if v.is_empty() || v.chars().count() > MAX_NAME_CHARS {
                return Err(EventError(format!(
                    "{field} must be an SLO name of 1 to {MAX_NAME_CHARS} characters"
                )));
            }
        }
    }
    if let (Some(a), Some(z)) = (&b.from, &b.until) {
        if a >= z {
            return Err(EventError("from must sort before until".into()));
        }
    }
    Ok(ShardOrder {
        cycle: b.cycle,
        index: b.shard,
        of: b.of,
        range: NameRange {
            from: b.from,
            until: b.until,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> ShardOrder {
        ShardOrder {
            cycle: 1_800_000_000,
            index: 1,
            of: 4,
            range: NameRange {
                from: Some("slo-03".into()),
                until: Some("slo-06".into()),
            },
        }
    }

    #[test]
    fn an_order_travels_as_a_body_and_back() {
        let o = order();
        assert_eq!(parse_order(&order_body(&o)).unwrap(), o);
        let open = ShardOrder {
            range: NameRange::all(),
            ..o
        };
        assert_eq!(parse_order(&order_body(&open)).unwrap(), open);
    }

    #[test]
    fn bodies_that_are_not_orders_are_refused_naming_what_is_wrong() {
        for (body, says) in [
            ("[]", "not a shard order"),
            (
                r#"{"cycle":1800000000,"shard":0,"of":1,"extra":1}"#,
                "unknown field",
            ),
            (r#"{"cycle":-5,"shard":0,"of":1}"#, "trigger time"),
            (r#"{"cycle":1800000000,"shard":4,"of":4}"#, "is not a shard"),
            (r#"{"cycle":1800000000,"shard":0,"of":0}"#, "is not a shard"),
            (
                r#"{"cycle":1800000000,"shard":0,"of":2,"from":""}"#,
                "from must be",
            ),
            (
                r#"{"cycle":1800000000,"shard":0,"of":2,"from":"b","until":"a"}"#,
                "sort before",
            ),
        ] {
            let err = parse_order(body).unwrap_err();
            assert!(err.0.contains(says), "{body}: {err}");
        }
        let huge = format!(
            r#"{{"cycle":1800000000,"shard":0,"of":2,"from":"{}"}}"#,
            "a".repeat(20_000)
        );
        assert!(parse_order(&huge).unwrap_err().0.contains("bytes"));
    }
}
