//! Turning examples into padded id matrices with a Hugging Face tokenizer (the `tokenizers` crate).
//!
//! [`TextTokenizer::from_dir`] reads, in this order of preference:
//! - `tokenizer.json` (any model; the family is told by its special tokens `[CLS]`/`[SEP]` or
//!   `<s>`/`</s>`). Padding and truncation stored in the file are switched off: ours apply.
//! - `vocab.json` + `merges.txt`: RoBERTa byte-level BPE built as `RobertaTokenizerFast` does
//!   (`ByteLevel` pre-tokenizer and decoder, `RobertaProcessing` giving `<s> A </s>` and
//!   `<s> A </s></s> B </s>`; `add_prefix_space` from `tokenizer_config.json`, default `false`).
//! - `vocab.txt`: BERT WordPiece built as `BertTokenizerFast` does (`BertNormalizer` with
//!   lowercasing from `tokenizer_config.json`'s `do_lower_case`, default `true`;
//!   `BertPreTokenizer`; `[CLS] A [SEP] B [SEP]` with token types 0/1).
//!
//! [`TextTokenizer::encode`] truncates with the longest-first strategy (as `truncation=True` in
//! transformers), pads to the longest sequence of the batch on the right with the pad id, and
//! returns row-major `batch_size x seq_len` matrices. RoBERTa has a single token type, so its
//! `token_type_ids` are all 0.

use crate::error::DataError;
use crate::example::Example;
use std::path::{Path, PathBuf};
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::processors::roberta::RobertaProcessing;
use tokenizers::utils::truncation::{truncate_encodings, TruncationParams};
use tokenizers::{AddedToken, Encoding, PostProcessor, Tokenizer};

/// Which special-token conventions the tokenizer follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum TokenizerFamily {
    /// `[CLS] A [SEP] B [SEP]`, token types 0/1, `[PAD]` (id 0 in BERT vocabularies).
    Bert,
    /// `<s> A </s></s> B </s>`, one token type, `<pad>` (id 1 in RoBERTa vocabularies).
    Roberta,
}

/// A tokenized batch: row-major `batch_size x seq_len` matrices, right-padded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedBatch {
    pub input_ids: Vec<u32>,
    pub attention_mask: Vec<u32>,
    pub token_type_ids: Vec<u32>,
    pub batch_size: usize,
    pub seq_len: usize,
}

impl EncodedBatch {
    /// The ids of row `i` including padding.
    pub fn row_ids(&self, i: usize) -> &[u32] {
        &self.input_ids[i * self.seq_len..(i + 1) * self.seq_len]
    }

    /// The ids of row `i` without padding (attention mask 1).
    pub fn unpadded_ids(&self, i: usize) -> Vec<u32> {
        let row = i * self.seq_len..(i + 1) * self.seq_len;
        self.input_ids[row.clone()]
            .iter()
            .zip(&self.attention_mask[row])
            .filter(|(_, &m)| m == 1)
            .map(|(&id, _)| id)
            .collect()
    }
}

/// Table sizes of the model a tokenizer's ids go to.
#[derive(Debug, Clone, Copy)]
struct ModelTables {
    vocab_size: usize,
    type_vocab_size: usize,
}

/// A Hugging Face tokenizer with this crate's padding and truncation.
pub struct TextTokenizer {
    inner: Tokenizer,
    family: TokenizerFamily,
    pad_id: u32,
    dir: PathBuf,
    /// The sizes of the token and token-type tables of the model these ids go to
    /// ([`Self::for_model`]).
    model_tables: Option<ModelTables>,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer")
            .field("dir", &self.dir)
            .field("family", &self.family)
            .field("pad_id", &self.pad_id)
            .finish()
    }
}

impl TextTokenizer {
    /// Loads the tokenizer files of a model folder (see the module docs for the order).
    pub fn from_dir(dir: &Path) -> Result<Self, DataError> {
        if !dir.is_dir() {
            return Err(DataError::MissingDir {
                path: dir.to_path_buf(),
                hint: "a model folder with tokenizer.json, vocab.json + merges.txt, or vocab.txt"
                    .into(),
            });
        }
        let fail = |message: String| DataError::Tokenizer {
            dir: dir.to_path_buf(),
            message,
        };
        let config = read_tokenizer_config(dir)?;
        let inner = if dir.join("tokenizer.json").is_file() {
            let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
                .map_err(|e| fail(format!("cannot load tokenizer.json: {e}")))?;
            tokenizer.with_padding(None);
            tokenizer
                .with_truncation(None)
                .map_err(|e| fail(format!("cannot switch truncation off: {e}")))?;
            tokenizer
        } else if dir.join("vocab.json").is_file() && dir.join("merges.txt").is_file() {
            let add_prefix_space = config
                .get("add_prefix_space")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false);
            roberta_bpe(dir, add_prefix_space).map_err(fail)?
        } else if dir.join("vocab.txt").is_file() {
            let lowercase = config
                .get("do_lower_case")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(true);
            bert_wordpiece(dir, lowercase).map_err(fail)?
        } else {
            return Err(fail(
                "no tokenizer.json, no vocab.json + merges.txt and no vocab.txt".into(),
            ));
        };
        let (family, pad_token) = if inner.token_to_id("[CLS]").is_some()
            && inner.token_to_id("[SEP]").is_some()
        {
            (TokenizerFamily::Bert, "[PAD]")
        } else if inner.token_to_id("<s>").is_some() && inner.token_to_id("</s>").is_some() {
            (TokenizerFamily::Roberta, "<pad>")
        } else {
            return Err(fail(
                "cannot tell the family: neither [CLS]/[SEP] (BERT) nor <s>/</s> (RoBERTa) in the vocabulary"
                    .into(),
            ));
        };
        let pad_id = inner
            .token_to_id(pad_token)
            .ok_or_else(|| fail(format!("no {pad_token} token in the vocabulary")))?;
        Ok(TextTokenizer {
            inner,
            family,
            pad_id,
            dir: dir.to_path_buf(),
            model_tables: None,
        })
    }

    pub fn family(&self) -> TokenizerFamily {
        self.family
    }

    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Vocabulary size including added tokens.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// The underlying `tokenizers` tokenizer (padding and truncation off).
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }

    /// Number of special tokens added around a single text or a pair.
    pub fn num_special_tokens(&self, pair: bool) -> usize {
        self.inner
            .get_post_processor()
            .map_or(0, |p| p.added_tokens(pair))
    }

    /// Refuses, in [`Self::encode`], token ids and token-type ids the model's tables do not have:
    /// a tokenizer that is not the model's (a larger vocabulary, or BERT's pair type ids for a
    /// RoBERTa model) would otherwise make the backend index past a table (a panic).
    pub fn for_model(mut self, vocab_size: usize, type_vocab_size: usize) -> Self {
        self.model_tables = Some(ModelTables {
            vocab_size,
            type_vocab_size,
        });
        self
    }

    /// Tokenizes, truncates each example to `max_length` tokens (special tokens included;
    /// longest-first for pairs) and right-pads the batch to its longest sequence.
    pub fn encode(
        &self,
        examples: &[Example],
        max_length: usize,
    ) -> Result<EncodedBatch, DataError> {
        let encodings = self.encode_each(examples, Some(max_length))?;
        let seq_len = encodings.iter().map(Encoding::len).max().unwrap_or(0);
        let batch_size = encodings.len();
        let mut batch = EncodedBatch {
            input_ids: vec![self.pad_id; batch_size * seq_len],
            attention_mask: vec![0; batch_size * seq_len],
            token_type_ids: vec![0; batch_size * seq_len],
            batch_size,
            seq_len,
        };
        for (row, encoding) in encodings.iter().enumerate() {
            let start = row * seq_len;
            let n = encoding.len();
            batch.input_ids[start..start + n].copy_from_slice(encoding.get_ids());
            batch.attention_mask[start..start + n].fill(1);
            if self.family == TokenizerFamily::Bert {
                batch.token_type_ids[start..start + n].copy_from_slice(encoding.get_type_ids());
            }
        }
        if let Some(tables) = self.model_tables {
            self.check_ids(examples, &batch, tables)?;
        }
        Ok(batch)
    }

    fn check_ids(
        &self,
        examples: &[Example],
        batch: &EncodedBatch,
        tables: ModelTables,
    ) -> Result<(), DataError> {
        let fail = |what: String, row: usize, table: String| {
            let text: String = examples[row].text.chars().take(40).collect();
            Err(DataError::Tokenizer {
                dir: self.dir.clone(),
                message: format!(
                    "{what} of the text \"{text}\" is outside the model's {table}: these tokenizer files are not the model's"
                ),
            })
        };
        let row_of = |i: usize| i / batch.seq_len.max(1);
        if let Some(i) = batch
            .input_ids
            .iter()
            .position(|&id| id as usize >= tables.vocab_size)
        {
            let id = batch.input_ids[i];
            let token = self.inner.id_to_token(id).unwrap_or_default();
            return fail(
                format!("token `{token}` (id {id})"),
                row_of(i),
                format!("vocabulary of {} tokens", tables.vocab_size),
            );
        }
        if let Some(i) = batch
            .token_type_ids
            .iter()
            .position(|&t| t as usize >= tables.type_vocab_size)
        {
            return fail(
                format!("token type id {}", batch.token_type_ids[i]),
                row_of(i),
                format!("{} token type(s)", tables.type_vocab_size),
            );
        }
        Ok(())
    }

    /// Token count of each example with special tokens and without truncation.
    pub fn token_lengths(&self, examples: &[Example]) -> Result<Vec<usize>, DataError> {
        Ok(self
            .encode_each(examples, None)?
            .iter()
            .map(Encoding::len)
            .collect())
    }

    /// One encoding per example, with special tokens; truncated when `max_length` is given.
    fn encode_each(
        &self,
        examples: &[Example],
        max_length: Option<usize>,
    ) -> Result<Vec<Encoding>, DataError> {
        let fail = |message: String| DataError::Tokenizer {
            dir: self.dir.clone(),
            message,
        };
        // Every text (first texts, then the second texts of pairs) encoded on its own, exactly
        // as `tokenizers` encodes the two members of a pair, so that truncation can happen between
        // tokenization and the special tokens, as in `TokenizerImpl::post_process`.
        let mut texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
        texts.extend(examples.iter().filter_map(|e| e.text_pair.as_deref()));
        let mut singles = self
            .inner
            .encode_batch(texts, false)
            .map_err(|e| fail(format!("cannot encode: {e}")))?
            .into_iter();
        let firsts: Vec<Encoding> = singles.by_ref().take(examples.len()).collect();
        let mut out = Vec::with_capacity(examples.len());
        for (example, first) in examples.iter().zip(firsts) {
            let second = example.text_pair.as_ref().and_then(|_| singles.next());
            let added = self.num_special_tokens(second.is_some());
            let (first, second) = match max_length {
                Some(max_length) => {
                    if max_length <= added {
                        return Err(fail(format!(
                            "max_length {max_length} leaves no room for text next to {added} special tokens"
                        )));
                    }
                    let params = TruncationParams {
                        max_length: max_length - added,
                        ..TruncationParams::default()
                    };
                    truncate_encodings(first, second, &params)
                        .map_err(|e| fail(format!("cannot truncate: {e}")))?
                }
                None => (first, second),
            };
            out.push(
                self.inner
                    .post_process(first, second, true)
                    .map_err(|e| fail(format!("cannot add special tokens: {e}")))?,
            );
        }
        Ok(out)
    }
}

fn read_tokenizer_config(
    dir: &Path,
) -> Result<serde_json::Map<String, serde_json::Value>, DataError> {
    let path = dir.join("tokenizer_config.json");
    if !path.is_file() {
        return Ok(Default::default());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| DataError::io(&path, e))?;
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(DataError::Malformed {
            path,
            line: 1,
            expected: "a JSON object".into(),
            found: text.chars().take(40).collect(),
        }),
        Err(e) => Err(DataError::Malformed {
            path,
            line: e.line(),
            expected: "valid JSON".into(),
            found: e.to_string(),
        }),
    }
}

/// Registers the special tokens that the vocabulary holds, so they are never split.
fn add_specials(tokenizer: &mut Tokenizer, tokens: &[(&str, bool)]) -> Result<(), String> {
    let specials: Vec<AddedToken> = tokens
        .iter()
        .filter(|(token, _)| tokenizer.token_to_id(token).is_some())
        .map(|&(token, lstrip)| AddedToken::from(token, true).lstrip(lstrip))
        .collect();
    tokenizer
        .add_special_tokens(specials)
        .map(|_| ())
        .map_err(|e| format!("cannot register special tokens: {e}"))
}

fn path_str(path: &Path) -> Result<&str, String> {
    path.to_str()
        .ok_or_else(|| format!("path is not valid UTF-8: {}", path.display()))
}

fn roberta_bpe(dir: &Path, add_prefix_space: bool) -> Result<Tokenizer, String> {
    let vocab = dir.join("vocab.json");
    let merges = dir.join("merges.txt");
    let bpe = BPE::from_file(path_str(&vocab)?, path_str(&merges)?)
        .build()
        .map_err(|e| format!("cannot load vocab.json + merges.txt: {e}"))?;
    let mut tokenizer = Tokenizer::new(bpe);
    let id = |token: &str| {
        tokenizer
            .token_to_id(token)
            .ok_or_else(|| format!("vocab.json has no {token} token"))
    };
    let processor =
        RobertaProcessing::new(("</s>".into(), id("</s>")?), ("<s>".into(), id("<s>")?))
            .trim_offsets(true)
            .add_prefix_space(add_prefix_space);
    tokenizer
        .with_pre_tokenizer(Some(ByteLevel::new(add_prefix_space, true, true)))
        .with_decoder(Some(ByteLevelDecoder::default()))
        .with_post_processor(Some(processor));
    add_specials(
        &mut tokenizer,
        &[
            ("<s>", false),
            ("<pad>", false),
            ("</s>", false),
            ("<unk>", false),
            ("<mask>", true),
        ],
    )?;
    Ok(tokenizer)
}

fn bert_wordpiece(dir: &Path, lowercase: bool) -> Result<Tokenizer, String> {
    let vocab = dir.join("vocab.txt");
    let wordpiece = WordPiece::from_file(path_str(&vocab)?)
        .unk_token("[UNK]".into())
        .continuing_subword_prefix("##".into())
        .max_input_chars_per_word(100)
        .build()
        .map_err(|e| format!("cannot load vocab.txt: {e}"))?;
    let mut tokenizer = Tokenizer::new(wordpiece);
    let id = |token: &str| {
        tokenizer
            .token_to_id(token)
            .ok_or_else(|| format!("vocab.txt has no {token} token"))
    };
    let processor = BertProcessing::new(
        ("[SEP]".into(), id("[SEP]")?),
        ("[CLS]".into(), id("[CLS]")?),
    );
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(true, true, None, lowercase)))
        .map_err(|e| format!("cannot set the normalizer: {e}"))?
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_decoder(Some(WordPieceDecoder::default()))
        .with_post_processor(Some(processor));
    add_specials(
        &mut tokenizer,
        &[
            ("[PAD]", false),
            ("[UNK]", false),
            ("[CLS]", false),
            ("[SEP]", false),
            ("[MASK]", false),
        ],
    )?;
    Ok(tokenizer)
}
