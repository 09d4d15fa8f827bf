//! The sentence encoder: all-MiniLM-L6-v2 (a 6-layer BERT, 384 dimensions, 12 heads) on candle's CPU tensors,
//! with mean pooling over the real tokens and L2 normalisation, as sentence-transformers runs it. The weights and
//! the WordPiece vocabulary are read from the model folder; nothing goes over the network.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder, embedding, layer_norm, linear};
use tokenizers::Tokenizer;

/// The name vectors are stored under, so vectors of another model never mix with these.
pub const MODEL_NAME: &str = "all-minilm-l6-v2";
/// The files the folder must hold.
pub const MODEL_FILES: [&str; 3] = ["config.json", "model.safetensors", "tokenizer.json"];
pub const DIMS: usize = 384;
/// Keywords per forward pass: big enough for the matrix products to be efficient, small enough to report progress.
pub const BATCH: usize = 64;
/// Keywords are short; a longer text is cut here (the model was trained on up to 256 tokens).
const MAX_TOKENS: usize = 128;

#[derive(serde::Deserialize)]
struct BertConfig {
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    max_position_embeddings: usize,
    type_vocab_size: usize,
    layer_norm_eps: f64,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    out_norm: LayerNorm,
}

struct Bert {
    words: Embedding,
    positions: Embedding,
    token_types: Embedding,
    norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
}

impl Bert {
    fn load(vb: VarBuilder, c: &BertConfig) -> candle_core::Result<Self> {
        let (h, eps) = (c.hidden_size, c.layer_norm_eps);
        let e = vb.pp("embeddings");
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                let l = vb.pp(format!("encoder.layer.{i}"));
                let (a, s) = (l.pp("attention"), l.pp("attention.self"));
                Ok(Layer {
                    query: linear(h, h, s.pp("query"))?,
                    key: linear(h, h, s.pp("key"))?,
                    value: linear(h, h, s.pp("value"))?,
                    attn_out: linear(h, h, a.pp("output.dense"))?,
                    attn_norm: layer_norm(h, eps, a.pp("output.LayerNorm"))?,
                    intermediate: linear(h, c.intermediate_size, l.pp("intermediate.dense"))?,
                    output: linear(c.intermediate_size, h, l.pp("output.dense"))?,
                    out_norm: layer_norm(h, eps, l.pp("output.LayerNorm"))?,
                })
            })
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Bert {
            words: embedding(c.vocab_size, h, e.pp("word_embeddings"))?,
            positions: embedding(c.max_position_embeddings, h, e.pp("position_embeddings"))?,
            token_types: embedding(c.type_vocab_size, h, e.pp("token_type_embeddings"))?,
            norm: layer_norm(h, eps, e.pp("LayerNorm"))?,
            layers,
            heads: c.num_attention_heads,
        })
    }

    /// Token ids and attention mask (1 = token, 0 = padding), both (batch, len) → pooled, unit-length (batch, hidden).
    fn embed(&self, ids: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let positions = Tensor::arange(0u32, t as u32, ids.device())?;
        let x = self.words.forward(ids)?.broadcast_add(&self.positions.forward(&positions)?)?;
        let x = x.broadcast_add(&self.token_types.forward(&ids.zeros_like()?)?)?;
        let hidden = x.dim(2)?;
        // Tokens as rows of one (batch × len, hidden) matrix: each linear layer is then one matrix product
        // instead of a small one per keyword.
        let mut x = self.norm.forward(&x)?.reshape((b * t, hidden))?;
        // Padding gets a large negative score, so softmax gives it no attention.
        let bias = ((mask.ones_like()? - mask)? * -10_000.0)?.reshape((b, 1, 1, t))?;
        let d = hidden / self.heads;
        let split = |y: Tensor| y.reshape((b, t, self.heads, d))?.transpose(1, 2)?.contiguous();
        for l in &self.layers {
            let q = split(l.query.forward(&x)?)?;
            let k = split(l.key.forward(&x)?)?;
            let v = split(l.value.forward(&x)?)?;
            let scores = (q.matmul(&k.t()?)? / (d as f64).sqrt())?.broadcast_add(&bias)?;
            let attn = candle_nn::ops::softmax_last_dim(&scores)?;
            let ctx = attn.matmul(&v)?.transpose(1, 2)?.reshape((b * t, hidden))?;
            x = l.attn_norm.forward(&(l.attn_out.forward(&ctx)? + &x)?)?;
            let inner = l.intermediate.forward(&x)?.gelu_erf()?;
            x = l.out_norm.forward(&(l.output.forward(&inner)? + &x)?)?;
        }
        pool(&x.reshape((b, t, hidden))?, mask)
    }
}

/// Mean over the real tokens (mask 1), then unit length: (batch, len, hidden) → (batch, hidden).
fn pool(x: &Tensor, mask: &Tensor) -> candle_core::Result<Tensor> {
    let m = mask.unsqueeze(2)?;
    let mean = x.broadcast_mul(&m)?.sum(1)?.broadcast_div(&m.sum(1)?)?;
    let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
    mean.broadcast_div(&norm)
}

/// The loaded model and its tokenizer. Cheap to share: load once per process with [`shared`].
pub struct Encoder {
    bert: Bert,
    tokenizer: Tokenizer,
    device: Device,
}

/// Why the model cannot be used, in words for the user.
pub fn missing_files(dir: &Path) -> Option<String> {
    let missing: Vec<&str> = MODEL_FILES.iter().copied().filter(|f| !dir.join(f).is_file()).collect();
    if missing.is_empty() {
        return None;
    }
    Some(format!(
        "The meaning model is not installed on this server ({} missing in {}); scripts/fetch-model.sh installs it",
        missing.join(", "),
        dir.display()
    ))
}

impl Encoder {
    pub fn load(dir: &Path) -> Result<Self, String> {
        if let Some(why) = missing_files(dir) {
            return Err(why);
        }
        let bad = |what: &str, e: &dyn std::fmt::Display| format!("The meaning model's {what} could not be read: {e}");
        let config: BertConfig = std::fs::read(dir.join("config.json"))
            .map_err(|e| bad("config.json", &e))
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| bad("config.json", &e)))?;
        let device = Device::Cpu;
        let weights = std::fs::read(dir.join("model.safetensors")).map_err(|e| bad("weights", &e))?;
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device).map_err(|e| bad("weights", &e))?;
        let bert = Bert::load(vb, &config).map_err(|e| bad("weights", &e))?;
        if config.hidden_size != DIMS {
            return Err(format!("The meaning model has {} dimensions; {DIMS} are expected", config.hidden_size));
        }
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| bad("tokenizer", &e))?;
        // The file pads every text to 128 tokens; batches are padded here, to their own longest text.
        tokenizer.with_padding(None);
        let trunc = tokenizers::TruncationParams { max_length: MAX_TOKENS, ..Default::default() };
        tokenizer.with_truncation(Some(trunc)).map_err(|e| bad("tokenizer", &e))?;
        Ok(Encoder { bert, tokenizer, device })
    }

    /// The WordPiece ids of a text, with [CLS] and [SEP].
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, String> {
        let enc = self.tokenizer.encode(text, true).map_err(|e| format!("tokenizing failed: {e}"))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Unit-length vectors of the texts, in their order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
        self.embed_with_progress(texts, |_, _| {})
    }

    /// As [`Encoder::embed`], calling `progress(done, total)` after each batch. Texts of similar length are
    /// batched together (sorted by token count, then position), so little is spent on padding, and the same
    /// texts always meet in the same batches.
    pub fn embed_with_progress(&self, texts: &[&str], mut progress: impl FnMut(usize, usize)) -> Result<Vec<Vec<f32>>, String> {
        let encodings = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| format!("tokenizing failed: {e}"))?;
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| (encodings[i].get_ids().len(), i));
        let mut out = vec![Vec::new(); texts.len()];
        for (n, batch) in order.chunks(BATCH).enumerate() {
            let len = batch.iter().map(|&i| encodings[i].get_ids().len()).max().unwrap_or(0).max(1);
            let mut ids = vec![0u32; batch.len() * len];
            let mut mask = vec![0f32; batch.len() * len];
            for (row, &i) in batch.iter().enumerate() {
                for (col, &id) in encodings[i].get_ids().iter().enumerate() {
                    ids[row * len + col] = id;
                    mask[row * len + col] = 1.0;
                }
            }
            let run = || -> candle_core::Result<Vec<Vec<f32>>> {
                let ids = Tensor::from_vec(ids, (batch.len(), len), &self.device)?;
                let mask = Tensor::from_vec(mask, (batch.len(), len), &self.device)?;
                self.bert.embed(&ids, &mask)?.to_vec2::<f32>()
            };
            let vectors = run().map_err(|e| format!("the meaning model failed: {e}"))?;
            for (&i, v) in batch.iter().zip(vectors) {
                out[i] = v;
            }
            progress((n * BATCH + batch.len()).min(texts.len()), texts.len());
        }
        Ok(out)
    }
}

/// The process's one encoder for `dir`, loaded on first use (about a second) and kept.
pub fn shared(dir: &Path) -> Result<Arc<Encoder>, String> {
    static LOADED: Mutex<Option<(PathBuf, Arc<Encoder>)>> = Mutex::new(None);
    // Held while loading, so callers arriving meanwhile wait for this load instead of starting their own.
    let mut slot = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((loaded_dir, enc)) = slot.as_ref()
        && loaded_dir == dir
    {
        return Ok(enc.clone());
    }
    let enc = Arc::new(Encoder::load(dir)?);
    *slot = Some((dir.to_path_buf(), enc.clone()));
    Ok(enc)
}

/// Unit-length vectors of `texts` with the model in `dir` (loaded once per process).
pub fn embed(dir: &Path, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
    shared(dir)?.embed(texts)
}

/// Cosine similarity of two unit-length vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    dot(a, b)
}

/// Dot product in eight independent lanes, which the compiler turns into SIMD.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_is_left_out_of_the_mean() {
        // The mean of the two real tokens is (3, 4): length 5.
        let x = Tensor::new(&[[[1f32, 2.], [5., 6.], [100., -100.]]], &Device::Cpu).unwrap();
        let mask = Tensor::new(&[[1f32, 1., 0.]], &Device::Cpu).unwrap();
        assert_eq!(pool(&x, &mask).unwrap().to_vec2::<f32>().unwrap(), vec![vec![0.6f32, 0.8]]);
    }

    #[test]
    fn dot_matches_the_plain_sum() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.1).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-4);
    }

    /// The packaged model (scripts/fetch-model.sh puts it there; the test command runs that first).
    fn model() -> Arc<Encoder> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/all-minilm-l6-v2");
        shared(&dir).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn tokenizes_as_bert_uncased() {
        let m = model();
        assert_eq!(m.token_ids("hello world").unwrap(), vec![101, 7592, 2088, 102]);
        assert_eq!(m.token_ids("Hello, WORLD").unwrap(), vec![101, 7592, 1010, 2088, 102]);
    }

    #[test]
    fn similar_meanings_are_close_and_others_far() {
        let v = model().embed(&["running shoes", "sneakers for running", "mortgage rates", "home loan interest"]).unwrap();
        assert!(v.iter().all(|x| x.len() == DIMS && (dot(x, x) - 1.0).abs() < 1e-4), "unit length");
        let (shoes, mortgage) = (cosine(&v[0], &v[1]), cosine(&v[2], &v[3]));
        let across = [cosine(&v[0], &v[2]), cosine(&v[0], &v[3]), cosine(&v[1], &v[2]), cosine(&v[1], &v[3])];
        assert!(shoes > 0.6 && mortgage > 0.5, "{shoes} {mortgage}");
        assert!(across.iter().all(|&c| c < 0.25), "{across:?}");
    }

    #[test]
    fn a_vector_does_not_depend_on_its_batch() {
        // Alone, or padded next to a long text: padding is masked out, so the vector stays the same.
        let m = model();
        let alone = m.embed(&["cheap flights"]).unwrap();
        let long = "a much longer keyword phrase about cheap flights to rome and paris in the summer holidays";
        let batched = m.embed(&[long, "cheap flights"]).unwrap();
        assert!(cosine(&alone[0], &batched[1]) > 0.99999, "{}", cosine(&alone[0], &batched[1]));
    }

    #[test]
    fn a_missing_folder_says_what_is_missing() {
        let why = missing_files(Path::new("no-such-model-folder")).unwrap();
        assert!(why.contains("model.safetensors") && why.contains("scripts/fetch-model.sh"), "{why}");
        assert!(Encoder::load(Path::new("no-such-model-folder")).is_err());
    }
}
