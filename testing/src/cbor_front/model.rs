//! The shapes of a Smithy service, as far as the front needs them: which member is a
//! timestamp, a blob, a float or an integer, so a JSON answer can be written as the
//! CBOR the SDK expects. Read from a compact JSON form (see `cloudwatch.json` and
//! `scripts/cloudwatch_shapes.py`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::FrontError;

/// What a member, list element or map value holds: a scalar, or a named aggregate shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Boolean,
    Byte,
    Short,
    Integer,
    Long,
    Float,
    Double,
    String,
    Timestamp,
    Blob,
    Shape(String),
}

/// An aggregate shape. Sparse collections keep their nulls; dense ones never hold any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Structure(BTreeMap<String, Target>),
    /// Serialised like a structure with one member set.
    Union(BTreeMap<String, Target>),
    List {
        member: Target,
        sparse: bool,
    },
    Map {
        value: Target,
        sparse: bool,
    },
}

/// One operation's input and output structures; `None` is Smithy's `Unit` (no body).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Operation {
    pub input: Option<String>,
    pub output: Option<String>,
}

/// A service's operations and shapes: what routes a request and types its bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// The service shape's name, the `{serviceName}` of the URL and the awsJson target prefix.
    pub service: String,
    /// The namespace of the service's shape IDs, for an error's absolute `__type`.
    pub namespace: String,
    /// By name: what a request's path may name.
    pub operations: BTreeMap<String, Operation>,
    /// The aggregates by name; scalars are `Target`s and need no entry.
    pub shapes: BTreeMap<String, Shape>,
}

impl Model {
    /// Read the compact JSON form; every reference must name a scalar or a shape of the file.
    pub fn from_json(text: &str) -> Result<Model, FrontError> {
        let bad = |what: String| FrontError::Model(what);
        let doc: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let text_field = |key: &str| {
            doc[key]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| bad(format!("`{key}` is missing or not a string")))
        };
        let service = text_field("service")?;
        let namespace = text_field("namespace")?;
        let object = |v: &Value, what: &str| {
            v.as_object()
                .cloned()
                .ok_or_else(|| bad(format!("{what} is not an object")))
        };

        let mut shapes = BTreeMap::new();
        for (name, def) in object(&doc["shapes"], "`shapes`")? {
            shapes.insert(name.clone(), shape(&name, &def)?);
        }
        let mut operations = BTreeMap::new();
        for (name, def) in object(&doc["operations"], "`operations`")? {
            let side = |key: &str| match &def[key] {
                Value::Null => Ok(None),
                Value::String(s) => Ok(Some(s.clone())),
                other => Err(bad(format!("operation {name}: `{key}` is {other}"))),
            };
            operations.insert(
                name.clone(),
                Operation {
                    input: side("input")?,
                    output: side("output")?,
                },
            );
        }
        let model = Model {
            service,
            namespace,
            operations,
            shapes,
        };
        model.check_references()?;
        Ok(model)
    }

    /// The aggregate shape `name`.
    pub fn shape(&self, name: &str) -> Result<&Shape, FrontError> {
        self.shapes
            .get(name)
            .ok_or_else(|| FrontError::Model(format!("no shape named {name}")))
    }

    fn check_references(&self) -> Result<(), FrontError> {
        let known = |owner: &str, t: &Target| match t {
            Target::Shape(name) if !self.shapes.contains_key(name) => Err(FrontError::Model(
                format!("{owner} refers to {name}, which is not a shape of the model"),
            )),
            _ => Ok(()),
        };
        for (name, s) in &self.shapes {
            match s {
                Shape::Structure(members) | Shape::Union(members) => {
                    for (m, t) in members {
                        known(&format!("{name}.{m}"), t)?;
                    }
                }
                Shape::List { member: t, .. } | Shape::Map { value: t, .. } => known(name, t)?,
            }
        }
        for (name, op) in &self.operations {
            for s in op.input.iter().chain(&op.output) {
                match self.shapes.get(s) {
                    Some(Shape::Structure(_)) => {}
                    _ => {
                        return Err(FrontError::Model(format!(
                            "operation {name}: {s} is not a structure of the model"
                        )))
                    }
                }
            }
        }
        Ok(())
    }
}

fn target(owner: &str, v: &Value) -> Result<Target, FrontError> {
    let name = v
        .as_str()
        .ok_or_else(|| FrontError::Model(format!("{owner}: a target is a name, not {v}")))?;
    Ok(match name {
        "boolean" => Target::Boolean,
        "byte" => Target::Byte,
        "short" => Target::Short,
        "integer" => Target::Integer,
        "long" => Target::Long,
        "float" => Target::Float,
        "double" => Target::Double,
        "string" => Target::String,
        "timestamp" => Target::Timestamp,
        "blob" => Target::Blob,
        other => Target::Shape(other.to_string()),
    })
}

fn members(owner: &str, v: &Value) -> Result<BTreeMap<String, Target>, FrontError> {
    let fields = v
        .as_object()
        .ok_or_else(|| FrontError::Model(format!("{owner}: members are an object, not {v}")))?;
    fields
        .iter()
        .map(|(m, t)| Ok((m.clone(), target(&format!("{owner}.{m}"), t)?)))
        .collect()
}

fn shape(name: &str, def: &Value) -> Result<Shape, FrontError> {
    let sparse = def["sparse"].as_bool().unwrap_or(false);
    if let Some(m) = def.get("structure") {
        Ok(Shape::Structure(members(name, m)?))
    } else if let Some(m) = def.get("union") {
        Ok(Shape::Union(members(name, m)?))
    } else if let Some(t) = def.get("list") {
        Ok(Shape::List {
            member: target(name, t)?,
            sparse,
        })
    } else if let Some(t) = def.get("map") {
        Ok(Shape::Map {
            value: target(name, t)?,
            sparse,
        })
    } else {
        Err(FrontError::Model(format!(
            "shape {name} is none of structure, union, list, map: {def}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_to_a_missing_shape_is_refused_with_its_owner() {
        let text = r#"{"service": "S", "namespace": "n", "operations": {},
            "shapes": {"Out": {"structure": {"When": "timestamp", "Items": "ItemList"}}}}"#;
        let err = Model::from_json(text).unwrap_err().to_string();
        assert!(err.contains("Out.Items refers to ItemList"), "{err}");
    }

    #[test]
    fn an_operation_whose_output_is_not_a_structure_is_refused() {
        let text = r#"{"service": "S", "namespace": "n",
            "operations": {"Get": {"output": "Names"}},
            "shapes": {"Names": {"list": "string"}}}"#;
        let err = Model::from_json(text).unwrap_err().to_string();
        assert!(
            err.contains("operation Get: Names is not a structure"),
            "{err}"
        );
    }

    #[test]
    fn the_cloudwatch_shapes_load_and_type_what_sloguard_reads() {
        let m = super::super::cloudwatch().unwrap();
        assert_eq!(m.service, "GraniteServiceVersion20100801");
        let op = &m.operations["GetMetricData"];
        assert_eq!(op.output.as_deref(), Some("GetMetricDataOutput"));
        assert_eq!(m.operations["PutMetricData"].output, None);
        let Ok(Shape::Structure(result)) = m.shape("MetricDataResult") else {
            panic!("MetricDataResult is a structure")
        };
        assert_eq!(result["Timestamps"], Target::Shape("Timestamps".into()));
        assert_eq!(
            m.shape("Timestamps").unwrap(),
            &Shape::List {
                member: Target::Timestamp,
                sparse: false
            }
        );
        assert_eq!(
            m.shape("DatapointValues").unwrap(),
            &Shape::List {
                member: Target::Double,
                sparse: false
            }
        );
    }
}
