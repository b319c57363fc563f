//! Reading the SetFit fixtures (tests/fixtures/setfit/, scripts/make_setfit_fixtures.py):
//! the `.json` with the small values and the `.safetensors` with the arrays, as f64.

use serde_json::Value;

pub struct Fixture {
    pub meta: Value,
    bytes: Vec<u8>,
}

impl Fixture {
    pub fn open(name: &str) -> Self {
        let dir = format!("{}/tests/fixtures/setfit", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(format!("{dir}/{name}.json")).unwrap();
        Self {
            meta: serde_json::from_str(&text).unwrap(),
            bytes: std::fs::read(format!("{dir}/{name}.safetensors")).unwrap(),
        }
    }

    pub fn cases(&self) -> &Vec<Value> {
        self.meta["cases"].as_array().unwrap()
    }

    /// Array `key` (f32 or f64) as f64 values with its shape.
    pub fn array(&self, key: &str) -> (Vec<usize>, Vec<f64>) {
        let st = safetensors::SafeTensors::deserialize(&self.bytes).unwrap();
        let t = st.tensor(key).unwrap_or_else(|e| panic!("{key}: {e}"));
        let b = t.data();
        let values = match t.dtype() {
            safetensors::Dtype::F32 => b
                .chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap())))
                .collect(),
            safetensors::Dtype::F64 => b
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            d => panic!("{key}: dtype {d:?}"),
        };
        (t.shape().to_vec(), values)
    }

    /// A `[rows, cols]` array as rows of f32 (what the trainer's embeddings are).
    pub fn rows_f32(&self, key: &str) -> Vec<Vec<f32>> {
        let (shape, values) = self.array(key);
        values
            .chunks(shape[1])
            .map(|r| r.iter().map(|&v| v as f32).collect())
            .collect()
    }
}

pub fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

pub fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}
