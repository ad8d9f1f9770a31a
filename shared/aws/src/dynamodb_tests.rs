//! The DynamoDB adapter's pure parts: item sizes as DynamoDB counts them, the key text of
//! outbox items and one-time records, and the table `sloguard init` creates being the one
//! the SAM template declares.

use super::dedup::once_key;
use super::outbox::{outbox_item_key, outbox_sort_key, parse_outbox_key};
use super::*;
use sloguard_core::app::ports::{Channel, Once, OutboxKey};

#[test]
fn item_size_counts_names_and_values_as_dynamodb_does() {
    let mut item = key("DEF", "checkout");
    assert_eq!(item_size(&item), 2 + 3 + 2 + 8);
    item.insert("version".into(), n(12345));
    item.insert(
        "pending".into(),
        AttributeValue::Ss(vec!["ab".into(), "c".into()]),
    );
    // 12345: 5 significant digits = 3 bytes + 1
    assert_eq!(item_size(&item), 15 + 7 + 4 + 7 + 3);
}
use sloguard_core::slo::yaml;

/// `sloguard init` and the SAM template must create the same table.
#[test]
fn the_template_table_has_the_shape_init_creates() {
    let text = std::fs::read_to_string(format!(
        "{}/../../infra/template.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let doc = yaml::parse(&text).unwrap().remove(0);
    let props = doc
        .get("Resources")
        .and_then(|r| r.get("Table"))
        .and_then(|t| t.get("Properties"))
        .expect("Resources.Table.Properties");
    let s = |n: &yaml::Node| n.as_scalar().unwrap().to_string();
    assert_eq!(s(props.get("BillingMode").unwrap()), "PAY_PER_REQUEST");
    // (first, second) field of every entry of a list property
    let pairs = |list: &str, first: &str, second: &str| -> Vec<(String, String)> {
        props
            .get(list)
            .unwrap()
            .as_seq()
            .unwrap()
            .iter()
            .map(|k| (s(k.get(first).unwrap()), s(k.get(second).unwrap())))
            .collect()
    };
    let keys = pairs("KeySchema", "AttributeName", "KeyType");
    assert_eq!(
        keys,
        vec![
            (PK.to_string(), "HASH".to_string()),
            (SK.to_string(), "RANGE".to_string())
        ]
    );
    let attrs = pairs("AttributeDefinitions", "AttributeName", "AttributeType");
    assert_eq!(
        attrs,
        vec![
            (PK.to_string(), "S".to_string()),
            (SK.to_string(), "S".to_string())
        ]
    );
    let ttl = props.get("TimeToLiveSpecification").unwrap();
    assert_eq!(s(ttl.get("AttributeName").unwrap()), TTL_ATTRIBUTE);
    assert_eq!(s(ttl.get("Enabled").unwrap()), "true");
}

#[test]
fn outbox_and_dedup_keys_keep_their_stored_text() {
    let k = OutboxKey {
        notification: "2027-01-15T08:10:00Z#opened".into(),
        channel: Channel::Events,
        topic: None,
    };
    let item = outbox_item_key("checkout", &k);
    assert_eq!(get_s(&item, PK), Some("OUTBOX#checkout"));
    assert_eq!(get_s(&item, SK), Some("2027-01-15T08:10:00Z#opened#events"));
    assert_eq!(parse_outbox_key(&outbox_sort_key(&k)), Some(k));
    // A channel this version does not know is not delivered on another one.
    assert_eq!(parse_outbox_key("2027-01-15T08:10:00Z#opened#pager"), None);
    assert_eq!(parse_outbox_key("no-channel"), None);
    // A team topic's item keeps its topic; a key stored before routing has none: the stack's.
    let team = OutboxKey {
        notification: "2027-01-15T08:10:00Z#alarm#a#b".into(),
        channel: Channel::People,
        topic: Some("arn:aws:sns:eu-west-1:123456789012:team-a".into()),
    };
    assert_eq!(
        outbox_sort_key(&team),
        "2027-01-15T08:10:00Z#alarm#a#b#people@arn:aws:sns:eu-west-1:123456789012:team-a"
    );
    assert_eq!(parse_outbox_key(&outbox_sort_key(&team)), Some(team));
    let old = parse_outbox_key("2027-01-15T08:10:00Z#opened#people").unwrap();
    assert_eq!((old.channel, old.topic), (Channel::People, None));
    assert_eq!(parse_outbox_key("x#people@"), None);
    let once = once_key(Once::AlarmTransition {
        alarm: "checkout-5xx-high",
        timestamp_ms: 1_800_000_000_123,
        state: "ALARM",
    });
    assert_eq!(get_s(&once, PK), Some("ALARM#checkout-5xx-high"));
    assert_eq!(get_s(&once, SK), Some("1800000000123#ALARM"));
}
