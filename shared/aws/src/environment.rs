//! sloguard's environment variables (SLO_TABLE, SLO_TOPIC_ARN, ...): the functions and the
//! CLI read them as `sloguard_core::settings::Settings`, where each one is defined once
//! (variable, flag, default, bounds, meaning). `Environment` is that type under the name
//! the functions, the CLI and the tests have always used.

pub use sloguard_core::settings::{SettingError as EnvironmentError, Settings as Environment};
use sloguard_core::slo::route::AllowedTopics;

/// The functions' settings: the process environment (a missing or malformed variable is
/// an error that names it), with SLO events on the account's default bus unless
/// SLO_EVENT_BUS says otherwise.
pub fn for_functions(
    get: impl Fn(&str) -> Option<String>,
) -> Result<Environment, EnvironmentError> {
    Ok(Environment::from_lookup(&get)?.with_default_bus(&get))
}

/// SLO_ALLOWED_TOPICS alone (for `validate`, which needs no table): None when unset or
/// empty; the same check and message as in `Settings`.
pub fn allowed_topics(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<AllowedTopics>, EnvironmentError> {
    use sloguard_core::settings::{FromSetting, ALLOWED_TOPICS};
    Option::<AllowedTopics>::from_setting(&ALLOWED_TOPICS, get(ALLOWED_TOPICS.var))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_settings_are_read_and_checked() {
        let read = |allowed: Option<&'static str>, copy: Option<&'static str>| {
            Environment::from_lookup(move |k| match k {
                "SLO_TABLE" => Some("t".into()),
                "SLO_ALLOWED_TOPICS" => allowed.map(str::to_string),
                "SLO_COPY_ALL_TO_STACK_TOPIC" => copy.map(str::to_string),
                _ => None,
            })
        };
        let e = read(None, None).unwrap();
        assert_eq!((e.allowed_topics, e.copy_all_to_stack_topic), (None, false));
        let e = read(
            Some("arn:aws:sns:eu-west-1:123456789012:team-*"),
            Some("true"),
        )
        .unwrap();
        assert!(e.copy_all_to_stack_topic);
        assert!(e
            .allowed_topics
            .unwrap()
            .allows("arn:aws:sns:eu-west-1:123456789012:team-a"));
        assert_eq!(
            read(Some("team-*"), None).unwrap_err().var,
            "SLO_ALLOWED_TOPICS"
        );
        assert_eq!(
            read(None, Some("yes")).unwrap_err().var,
            "SLO_COPY_ALL_TO_STACK_TOPIC"
        );
    }

    #[test]
    fn the_functions_read_the_settings_with_the_default_bus() {
        let get = |k: &str| (k == "SLO_TABLE").then(|| "t".to_string());
        let f = for_functions(get).unwrap();
        assert_eq!(f.event_bus.as_deref(), Some("default"));
        assert_eq!(
            Environment {
                event_bus: None,
                ..f
            },
            Environment::from_lookup(get).unwrap(),
            "everything else as the CLI reads it"
        );
        let e = for_functions(|k| match k {
            "SLO_TABLE" => Some("t".into()),
            "SLO_CHANGES_DAYS" => Some("0".into()),
            _ => None,
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "SLO_CHANGES_DAYS: 0 is out of range 1..=3650"
        );
    }
}
