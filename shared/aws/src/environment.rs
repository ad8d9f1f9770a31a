//! sloguard's environment variables (SLO_TABLE, SLO_TOPIC_ARN, ...): the functions and the
//! CLI read them as `sloguard_core::settings::Settings`, where each one is defined once
//! (variable, flag, default, bounds, meaning). `Environment` is that type under the name
//! the functions, the CLI and the tests have always used.

pub use sloguard_core::settings::{SettingError as EnvironmentError, Settings as Environment};

/// The functions' settings: the process environment (a missing or malformed variable is
/// an error that names it), with SLO events on the account's default bus unless
/// SLO_EVENT_BUS says otherwise.
pub fn for_functions(
    get: impl Fn(&str) -> Option<String>,
) -> Result<Environment, EnvironmentError> {
    Ok(Environment::from_lookup(&get)?.with_default_bus(&get))
}

#[cfg(test)]
mod tests {
    use super::*;

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
