//! `dmlft embed`: sentence vectors of texts from any BERT / RoBERTa checkpoint (mean or first-token
//! pooling, optionally L2-normalised), one line per text or a JSON array of arrays.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use burn::backend::Flex;
use dmlft_data::{Example, TextTokenizer};
use dmlft_model::{load_encoder, pool, resolve_source};
use dmlft_pooling::Pooling;
use dmlft_train::tensors::BatchTensors;

#[derive(clap::Args)]
pub struct EmbedArgs {
    /// A model folder (config.json, model.safetensors, tokenizer files) or a Hugging Face model id.
    #[arg(long, value_name = "DIR_OR_ID")]
    pub model: String,
    /// Mean (sentence-transformers' pooling, the default here) or the first token.
    #[arg(long, value_enum, default_value_t = Pooling::Mean)]
    pub pooling: Pooling,
    /// Divide each vector by its L2 norm.
    #[arg(long)]
    pub normalize: bool,
    /// Print one JSON array of arrays instead of one line of numbers per text.
    #[arg(long)]
    pub json: bool,
    /// Read the texts from FILE, one per line.
    #[arg(long, value_name = "FILE", conflicts_with = "texts")]
    pub input: Option<PathBuf>,
    /// Truncation length in tokens.
    #[arg(long, default_value_t = 256)]
    pub max_length: usize,
    /// The texts to embed.
    pub texts: Vec<String>,
}

/// Embeds the texts; returns one vector per text, in order.
pub fn embed(args: &EmbedArgs) -> Result<Vec<Vec<f32>>> {
    let texts = match &args.input {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read --input {}", path.display()))?
            .lines()
            .map(str::to_string)
            .collect(),
        None => args.texts.clone(),
    };
    if texts.is_empty() {
        bail!("no text to embed: give TEXT arguments or --input FILE (one text per line)");
    }
    if args.max_length < 2 {
        bail!(
            "--max-length {} is too short: at least 2 tokens (the special tokens)",
            args.max_length
        );
    }
    let dir = resolve_source(&args.model)?;
    let device = Default::default();
    let (encoder, _) = load_encoder::<Flex>(&dir, None, &device)?;
    // what the encoder can take: positions and token ids past its tables would panic inside
    // the backend
    encoder.config.check_max_length(
        args.max_length,
        &format!("{} (--max-length)", dir.join("config.json").display()),
    )?;
    let tokenizer = TextTokenizer::from_dir(&dir)?
        .for_model(encoder.config.vocab_size, encoder.config.type_vocab_size);
    let examples: Vec<Example> = texts.iter().map(|t| Example::new(t.clone(), 0)).collect();
    let mut vectors = Vec::with_capacity(examples.len());
    for chunk in examples.chunks(64) {
        let encoded = tokenizer.encode(chunk, args.max_length)?;
        let x = BatchTensors::<Flex>::new(&encoded, &device);
        let states = encoder.forward(x.input_ids, x.attention_mask.clone(), x.token_type_ids);
        let pooled = pool(args.pooling, &states, &x.attention_mask);
        let [n, d] = pooled.dims();
        let flat: Vec<f32> = pooled.into_data().iter::<f32>().collect();
        for i in 0..n {
            let mut v = flat[i * d..(i + 1) * d].to_vec();
            if args.normalize {
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                v.iter_mut().for_each(|x| *x /= norm);
            }
            vectors.push(v);
        }
    }
    Ok(vectors)
}

/// The command: prints the vectors.
pub fn run(args: &EmbedArgs) -> Result<String> {
    let vectors = embed(args)?;
    if args.json {
        return Ok(serde_json::to_string(&vectors)? + "\n");
    }
    let mut out = String::new();
    for v in vectors {
        let line: Vec<String> = v.iter().map(|x| format!("{x:.6}")).collect();
        out.push_str(&line.join(" "));
        out.push('\n');
    }
    Ok(out)
}
