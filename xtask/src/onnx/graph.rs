//! A small ONNX graph builder: named values, float/int64 initializers, nodes with attributes,
//! and serialisation of the whole model.

use prost::Message;

use super::proto::*;

/// ONNX operator set the exporter targets (ONNX Runtime ≥ 1.16 supports it fully).
pub const OPSET: i64 = 17;
/// IR version matching [`OPSET`].
pub const IR_VERSION: i64 = 8;

/// An attribute value for [`Graph::node`].
pub enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Float(f32),
}

/// A graph under construction. Value names are generated (`v0`, `v1`, ...) except for the
/// graph input and output.
#[derive(Default)]
pub struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    next: usize,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{}", self.next)
    }

    /// A float constant (weights), row-major in `dims`. Returns its value name.
    pub fn float(&mut self, label: &str, dims: &[usize], values: &[f32]) -> String {
        assert_eq!(
            dims.iter().product::<usize>(),
            values.len(),
            "initializer {label}: shape does not match the data"
        );
        let name = self.fresh(&format!("{label}_"));
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: FLOAT,
            name: name.clone(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        });
        name
    }

    /// An int64 vector constant (shapes, axes). Returns its value name.
    pub fn int64s(&mut self, label: &str, values: &[i64]) -> String {
        let name = self.fresh(&format!("{label}_"));
        self.initializers.push(TensorProto {
            dims: vec![values.len() as i64],
            data_type: INT64,
            name: name.clone(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        });
        name
    }

    /// Appends a node with `outputs` results and returns their names. An empty input name
    /// stands for an omitted optional input.
    pub fn node_n(
        &mut self,
        op: &str,
        inputs: &[&str],
        attrs: Vec<(&str, Attr)>,
        outputs: usize,
    ) -> Vec<String> {
        let out: Vec<String> = (0..outputs).map(|_| self.fresh("v")).collect();
        let attribute = attrs
            .into_iter()
            .map(|(name, value)| {
                let mut a = AttributeProto {
                    name: name.to_owned(),
                    ..Default::default()
                };
                match value {
                    Attr::Int(i) => (a.r#type, a.i) = (ATTR_INT, i),
                    Attr::Ints(v) => (a.r#type, a.ints) = (ATTR_INTS, v),
                    Attr::Float(f) => (a.r#type, a.f) = (ATTR_FLOAT, f),
                }
                a
            })
            .collect();
        let name = self.fresh(&format!("{op}_"));
        self.nodes.push(NodeProto {
            input: inputs
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            output: out.clone(),
            name,
            op_type: op.to_owned(),
            attribute,
        });
        out
    }

    /// Appends a single-output node and returns the output's name.
    pub fn node(&mut self, op: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>) -> String {
        self.node_n(op, inputs, attrs, 1).remove(0)
    }

    /// Serialises the model. `input` and `output` are value names; their shapes use `None` for
    /// the dynamic batch axis. The graph's output is renamed to `output_name` with an Identity.
    pub fn finish(
        mut self,
        input: (&str, &[Option<usize>]),
        output: (&str, &[Option<usize>]),
        output_name: &str,
        doc: &str,
    ) -> Vec<u8> {
        self.nodes.push(NodeProto {
            input: vec![output.0.to_owned()],
            output: vec![output_name.to_owned()],
            name: "output".into(),
            op_type: "Identity".into(),
            attribute: vec![],
        });
        let info = |name: &str, dims: &[Option<usize>]| ValueInfoProto {
            name: name.to_owned(),
            r#type: Some(TypeProto {
                tensor_type: Some(TensorTypeProto {
                    elem_type: FLOAT,
                    shape: Some(TensorShapeProto {
                        dim: dims
                            .iter()
                            .map(|d| Dimension {
                                value: Some(match d {
                                    Some(n) => DimensionValue::DimValue(*n as i64),
                                    None => DimensionValue::DimParam("batch".into()),
                                }),
                            })
                            .collect(),
                    }),
                }),
            }),
        };
        let model = ModelProto {
            ir_version: IR_VERSION,
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: OPSET,
            }],
            producer_name: "genrescope-xtask".into(),
            producer_version: env!("CARGO_PKG_VERSION").into(),
            doc_string: doc.to_owned(),
            graph: Some(GraphProto {
                node: self.nodes,
                name: "genrescope".into(),
                initializer: self.initializers,
                input: vec![info(input.0, input.1)],
                output: vec![info(output_name, output.1)],
            }),
            metadata_props: vec![],
        };
        model.encode_to_vec()
    }
}
