//! WARC 1.1 files: the archive's durable, standard form of every HTTP exchange (`store/warc/`).
//!
//! Every record is its own gzip member, so a [`WarcPtr`] (file, member offset, compressed
//! length) gives random access, and any WARC tool (warcio, pywb) reads the files as they are.
//! The sled database only points into these files and must be rebuildable from them.
//!
//! Parts:
//! - [`WarcWriter`]: appends a `request` + `response` pair (or a `revisit` for a payload
//!   already archived) per [`Exchange`], fsyncs before returning, rotates files at a size limit,
//!   and rolls a failed write back so no half record is left behind. For many concurrent
//!   writers: [`RecordTarget`] / [`PreparedExchange`] compress outside the writer's lock and
//!   [`SyncToken`] gives group commit (one fsync for every record appended before it).
//! - [`WarcPtr`]: where a record lives; a revisit's pointer also carries its original.
//! - [`read_response`]: one response read back through a pointer, revisits resolved.
//! - [`scan_dir`] / [`WarcRecordInfo`]: sequential reader over every file, for rebuilds;
//!   a member cut short by a crash ends that file with an error value, never a panic.
//! - [`payload_digest`]: the `sha1:BASE32` digest warcio and pywb expect.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use sha1::{Digest, Sha1};

use crate::{Error, Result};

/// Files are rotated once they grow past this size.
pub const DEFAULT_WARC_MAX_FILE_SIZE: u64 = 1 << 30; // 1 GiB

/// The WARC-Profile of a revisit record whose payload is identical to an earlier response.
pub const REVISIT_PROFILE: &str =
    "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest";

/// Name under which a response's `Transfer-Encoding` header is archived.
///
/// The body we receive has its transfer coding removed already (hyper de-chunks it), so a
/// head still saying `Transfer-Encoding: chunked` would make WARC readers try to de-chunk
/// plain bytes. The header is kept, under this name, as a record of what was sent.
pub const ORIG_TRANSFER_ENCODING: &str = "X-Luutru-Orig-Transfer-Encoding";

const FILE_PREFIX: &str = "luutru-";
const FILE_SUFFIX: &str = ".warc.gz";
const CRLF2: &[u8] = b"\r\n\r\n";

/// One HTTP exchange as fetched, to be archived.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    pub target_uri: &'a str,
    pub date: DateTime<Utc>,
    pub ip: Option<IpAddr>,
    /// `"GET /x HTTP/1.1\r\nHost: ..\r\n...\r\n\r\n"`, ending with the blank line.
    pub request_head: &'a [u8],
    /// `"HTTP/1.1 200 OK\r\nHeader: v\r\n...\r\n\r\n"` as received, ending with the blank line.
    pub response_head: &'a [u8],
    /// Payload as received: content-encoding intact, transfer-encoding removed.
    pub body: &'a [u8],
    /// The earlier response with the same payload: a revisit record is written instead of the
    /// payload. Ignored (a full response is written) if its digest differs from `body`'s.
    pub revisit_of: Option<&'a WarcPtr>,
}

/// Where a record lives: one gzip member of one file in the WARC directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WarcPtr {
    /// File name inside the WARC directory.
    pub file: String,
    /// Offset of the gzip member.
    pub offset: u64,
    /// Compressed length of the member.
    pub length: u64,
    /// `"<urn:uuid:…>"`.
    pub record_id: String,
    /// `"sha1:BASE32"` over the payload.
    pub payload_digest: String,
    pub target_uri: String,
    /// The record's WARC-Date (microsecond precision, as written).
    pub date: DateTime<Utc>,
    /// For a revisit record: the response that really holds the payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<Box<WarcPtr>>,
}

/// An archived HTTP response, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Payload as received (still content-encoded).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }
}

/// One record found by [`scan_dir`], with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarcRecordInfo {
    pub file: String,
    /// Offset of the gzip member holding the record.
    pub offset: u64,
    /// Compressed length of that member.
    pub length: u64,
    /// WARC headers in file order (Content-Length included).
    pub headers: Vec<(String, String)>,
    /// The record block (for `application/http` records: HTTP head and payload).
    pub block: Vec<u8>,
}

impl WarcRecordInfo {
    /// First WARC header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// `WARC-Type`, e.g. `response`, `request`, `revisit`, `warcinfo`.
    pub fn warc_type(&self) -> Option<&str> {
        self.header("WARC-Type")
    }

    /// A pointer to this record, for a database rebuild. For a revisit, `original` is left
    /// `None`: look up the record named by `WARC-Refers-To` and fill it in. `None` when a
    /// header a pointer needs is missing or malformed.
    pub fn to_ptr(&self) -> Option<WarcPtr> {
        let date = DateTime::parse_from_rfc3339(self.header("WARC-Date")?).ok()?;
        Some(WarcPtr {
            file: self.file.clone(),
            offset: self.offset,
            length: self.length,
            record_id: self.header("WARC-Record-ID")?.to_string(),
            payload_digest: self.header("WARC-Payload-Digest")?.to_string(),
            target_uri: self.header("WARC-Target-URI")?.to_string(),
            date: date.with_timezone(&Utc),
            original: None,
        })
    }

    /// The HTTP response in a `response` or `revisit` block (a revisit's body is empty).
    pub fn http_response(&self) -> Result<HttpResponse> {
        parse_http_response(&self.block).map_err(|message| Error::ReadWarc {
            path: PathBuf::from(&self.file),
            offset: self.offset,
            message,
        })
    }
}

/// `"sha1:"` + base32 of the SHA-1 of `body`, the form warcio and pywb compute and check.
pub fn payload_digest(body: &[u8]) -> String {
    format!("sha1:{}", data_encoding::BASE32.encode(&Sha1::digest(body)))
}

/// Appends records to the current WARC file of a directory.
///
/// Not internally synchronised: share it behind a mutex. Each `write_*` call does blocking
/// I/O and an fsync, so call it from a blocking context in async code. Many writers sharing
/// one file do better with the split form: [`WarcWriter::target`] and
/// [`RecordTarget::prepare_exchange`] build and compress the records outside the lock,
/// [`WarcWriter::append_exchange`] / [`WarcWriter::write_metadata_unsynced`] only append, and
/// [`SyncToken::wait`], called after the lock is released, makes the record durable with one
/// fsync that covers every record appended before it (group commit).
#[derive(Debug)]
pub struct WarcWriter {
    dir: PathBuf,
    max_file_size: u64,
    file: File,
    file_name: String,
    /// Bytes of the current file known to hold complete members.
    size: u64,
    records_in_file: u64,
    warcinfo_id: String,
    /// Set after a failed write: the current file is not trusted for further appends.
    must_rotate: bool,
    /// Durability of the current file, shared with the tokens of its unsynced records.
    sync: Arc<FileSync>,
}

/// Group commit for one file: a second handle to fsync it without the writer's lock, how
/// far it is durable, and whether an fsync failed.
#[derive(Debug)]
struct FileSync {
    file: File,
    path: PathBuf,
    /// Bytes of complete members appended so far.
    appended: AtomicU64,
    /// An fsync failed: the file is not trusted any more (the writer moves to a new one).
    failed: AtomicBool,
    /// Bytes known to be on disk. Held during an fsync, so the records appended meanwhile
    /// wait for it and then share the next one.
    synced: Mutex<u64>,
}

impl FileSync {
    fn new(file: &File, path: PathBuf, size: u64) -> Result<Arc<Self>> {
        let file = file.try_clone().map_err(|source| Error::WriteWarc {
            path: path.clone(),
            source,
        })?;
        Ok(Arc::new(FileSync {
            file,
            path,
            appended: AtomicU64::new(size),
            failed: AtomicBool::new(false),
            synced: Mutex::new(size),
        }))
    }

    /// Returns once the first `end` bytes are on disk.
    fn sync_through(&self, end: u64) -> Result<()> {
        let mut synced = self.synced.lock().unwrap_or_else(|p| p.into_inner());
        if *synced >= end {
            return Ok(());
        }
        if self.failed.load(Ordering::SeqCst) {
            return Err(Error::WriteWarc {
                path: self.path.clone(),
                source: io::Error::other("an earlier fsync of this file failed"),
            });
        }
        // Everything appended so far, ours included, is covered by this one fsync.
        let upto = self.appended.load(Ordering::SeqCst);
        match self.file.sync_data() {
            Ok(()) => {
                *synced = upto.max(*synced);
                Ok(())
            }
            Err(source) => {
                // After a failed fsync the kernel's view of the file cannot be trusted: the
                // writer moves to a new file, and the unsynced tail is cut so readers never
                // meet records nothing points at (their writers all get this error).
                self.failed.store(true, Ordering::SeqCst);
                if let Err(e) = self
                    .file
                    .set_len(*synced)
                    .and_then(|()| self.file.sync_data())
                {
                    tracing::error!(
                        file = %self.path.display(),
                        error = %e,
                        "cannot truncate WARC file after a failed fsync; its tail may hold records nothing points at"
                    );
                }
                Err(Error::WriteWarc {
                    path: self.path.clone(),
                    source,
                })
            }
        }
    }
}

/// A record appended but maybe not yet on disk: [`SyncToken::wait`] before anything points
/// at it.
#[derive(Debug)]
#[must_use = "a record is durable only after SyncToken::wait"]
pub struct SyncToken {
    sync: Arc<FileSync>,
    end: u64,
}

impl SyncToken {
    /// Blocks until the record is on disk (one fsync may cover many records).
    pub fn wait(self) -> Result<()> {
        self.sync.sync_through(self.end)
    }
}

/// The file a record is being prepared for: its path (for error messages) and warcinfo id
/// (every record names it).
#[derive(Debug, Clone)]
pub struct RecordTarget {
    path: PathBuf,
    warcinfo_id: String,
}

/// An exchange's request and response (or revisit) records, compressed, ready to append to
/// the file they were prepared for.
#[derive(Debug)]
pub struct PreparedExchange {
    warcinfo_id: String,
    request_member: Vec<u8>,
    response_member: Vec<u8>,
    response_id: String,
    digest: String,
    target_uri: String,
    date: DateTime<Utc>,
    original: Option<WarcPtr>,
}

impl RecordTarget {
    fn invalid_input(&self, message: &str) -> Error {
        Error::WriteWarc {
            path: self.path.clone(),
            source: io::Error::new(io::ErrorKind::InvalidInput, message.to_string()),
        }
    }

    /// Builds and compresses the request record and the response record (or a revisit
    /// record when `revisit_of` is set). `digest` is the body's [`payload_digest`] when the
    /// caller has it already. CPU work only: no lock needed.
    pub fn prepare_exchange(
        &self,
        ex: &Exchange<'_>,
        digest: Option<String>,
    ) -> Result<PreparedExchange> {
        check_field_value(ex.target_uri).map_err(|e| self.invalid_input(e))?;
        if !ex.request_head.ends_with(CRLF2) {
            return Err(self.invalid_input("request head does not end with CRLF CRLF"));
        }
        if !ex.response_head.ends_with(CRLF2) {
            return Err(self.invalid_input("response head does not end with CRLF CRLF"));
        }

        let date = ex.date.trunc_subsecs(6);
        let date_text = warc_date(&date);
        let digest = digest.unwrap_or_else(|| payload_digest(ex.body));
        let original = match ex.revisit_of {
            // A revisit of a revisit points straight at the record holding the payload.
            Some(p) => {
                let original = p.original.as_deref().unwrap_or(p);
                if original.payload_digest == digest {
                    Some(original.clone())
                } else {
                    tracing::warn!(
                        uri = ex.target_uri,
                        expected = %original.payload_digest,
                        actual = %digest,
                        "revisit requested for a different payload; writing a full response"
                    );
                    None
                }
            }
            None => None,
        };
        let request_id = new_record_id();
        let response_id = new_record_id();
        let response_head = archival_head(ex.response_head);

        let mut common = vec![
            ("WARC-Date", date_text),
            ("WARC-Target-URI", ex.target_uri.to_string()),
        ];
        if let Some(ip) = ex.ip {
            common.push(("WARC-IP-Address", ip.to_string()));
        }
        common.push(("WARC-Warcinfo-ID", self.warcinfo_id.clone()));

        let request_payload = after_head(ex.request_head);
        let mut fields = vec![
            ("WARC-Type", "request".to_string()),
            ("WARC-Record-ID", request_id),
        ];
        fields.extend(common.iter().cloned());
        fields.extend([
            ("WARC-Concurrent-To", response_id.clone()),
            (
                "Content-Type",
                "application/http; msgtype=request".to_string(),
            ),
            ("WARC-Block-Digest", payload_digest(ex.request_head)),
            ("WARC-Payload-Digest", payload_digest(request_payload)),
        ]);
        let request_member = gzip_record(&fields, &[ex.request_head]);

        let mut fields = Vec::with_capacity(12);
        let response_member = match &original {
            Some(orig) => {
                fields.push(("WARC-Type", "revisit".to_string()));
                fields.push(("WARC-Record-ID", response_id.clone()));
                fields.extend(common.iter().cloned());
                fields.extend([
                    ("WARC-Profile", REVISIT_PROFILE.to_string()),
                    ("WARC-Refers-To-Target-URI", orig.target_uri.clone()),
                    ("WARC-Refers-To-Date", warc_date(&orig.date)),
                    ("WARC-Refers-To", orig.record_id.clone()),
                    (
                        "Content-Type",
                        "application/http; msgtype=response".to_string(),
                    ),
                    ("WARC-Block-Digest", payload_digest(&response_head)),
                    ("WARC-Payload-Digest", digest.clone()),
                ]);
                gzip_record(&fields, &[&response_head])
            }
            None => {
                let mut block_hasher = Sha1::new();
                block_hasher.update(&response_head);
                block_hasher.update(ex.body);
                let block_digest = format!(
                    "sha1:{}",
                    data_encoding::BASE32.encode(&block_hasher.finalize())
                );
                fields.push(("WARC-Type", "response".to_string()));
                fields.push(("WARC-Record-ID", response_id.clone()));
                fields.extend(common.iter().cloned());
                fields.extend([
                    (
                        "Content-Type",
                        "application/http; msgtype=response".to_string(),
                    ),
                    ("WARC-Block-Digest", block_digest),
                    ("WARC-Payload-Digest", digest.clone()),
                ]);
                gzip_record(&fields, &[&response_head, ex.body])
            }
        };
        let (request_member, response_member) = match (request_member, response_member) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(source), _) | (_, Err(source)) => {
                return Err(Error::WriteWarc {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        Ok(PreparedExchange {
            warcinfo_id: self.warcinfo_id.clone(),
            request_member,
            response_member,
            response_id,
            digest,
            target_uri: ex.target_uri.to_string(),
            date,
            original,
        })
    }
}

impl WarcWriter {
    /// Starts a new file `luutru-<YYYYMMDDHHMMSS>-<seq>.warc.gz` in `dir` (created if
    /// missing), beginning with a `warcinfo` record.
    pub fn open(dir: &Path, max_file_size: u64) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|source| Error::WriteWarc {
            path: dir.to_path_buf(),
            source,
        })?;
        let (file, file_name, warcinfo_id, size) = start_file(dir)?;
        let sync = FileSync::new(&file, dir.join(&file_name), size)?;
        Ok(WarcWriter {
            dir: dir.to_path_buf(),
            max_file_size,
            file,
            file_name,
            size,
            records_in_file: 0,
            warcinfo_id,
            must_rotate: false,
            sync,
        })
    }

    /// The directory this writer writes into.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Name of the file currently written to.
    pub fn current_file(&self) -> &str {
        &self.file_name
    }

    /// The file the next record goes to (rotating first if it is due), for
    /// [`RecordTarget::prepare_exchange`].
    pub fn target(&mut self) -> Result<RecordTarget> {
        self.rotate_if_needed()?;
        Ok(RecordTarget {
            path: self.path(),
            warcinfo_id: self.warcinfo_id.clone(),
        })
    }

    /// Appends a prepared exchange without waiting for the disk; `None` when the writer
    /// moved to another file since it was prepared (prepare it again for the new
    /// [`target`](Self::target)). The pointer is to the response or revisit record; nothing
    /// may point at it before [`SyncToken::wait`] returns.
    pub fn append_exchange(
        &mut self,
        prepared: PreparedExchange,
    ) -> Result<Option<(WarcPtr, SyncToken)>> {
        self.rotate_if_needed()?;
        if prepared.warcinfo_id != self.warcinfo_id {
            return Ok(None);
        }
        let response_offset = self.size + prepared.request_member.len() as u64;
        let response_length = prepared.response_member.len() as u64;
        let mut bytes = prepared.request_member;
        bytes.extend_from_slice(&prepared.response_member);
        let token = self.append(&bytes, 2)?;
        Ok(Some((
            WarcPtr {
                file: self.file_name.clone(),
                offset: response_offset,
                length: response_length,
                record_id: prepared.response_id,
                payload_digest: prepared.digest,
                target_uri: prepared.target_uri,
                date: prepared.date,
                original: prepared.original.map(Box::new),
            },
            token,
        )))
    }

    /// Writes the request record and the response record (or a revisit record when
    /// `revisit_of` is set), each its own gzip member, fsynced before returning. Returns a
    /// pointer to the response or revisit record.
    pub fn write_exchange(&mut self, ex: &Exchange<'_>) -> Result<WarcPtr> {
        loop {
            let prepared = self.target()?.prepare_exchange(ex, None)?;
            if let Some((ptr, token)) = self.append_exchange(prepared)? {
                token.wait()?;
                return Ok(ptr);
            }
        }
    }

    /// Appends a `metadata` record (e.g. extraction results or crawl notes about a capture),
    /// its own gzip member, fsynced before returning. `concurrent_to` names the record it
    /// describes (`"<urn:uuid:…>"`); an empty `target_uri` leaves `WARC-Target-URI` out.
    pub fn write_metadata(
        &mut self,
        target_uri: &str,
        date: DateTime<Utc>,
        concurrent_to: Option<&str>,
        content_type: &str,
        block: &[u8],
    ) -> Result<WarcPtr> {
        let (ptr, token) =
            self.write_metadata_unsynced(target_uri, date, concurrent_to, content_type, block)?;
        token.wait()?;
        Ok(ptr)
    }

    /// [`write_metadata`](Self::write_metadata) without waiting for the disk: nothing may
    /// point at the record before [`SyncToken::wait`] returns.
    pub fn write_metadata_unsynced(
        &mut self,
        target_uri: &str,
        date: DateTime<Utc>,
        concurrent_to: Option<&str>,
        content_type: &str,
        block: &[u8],
    ) -> Result<(WarcPtr, SyncToken)> {
        let target = (!target_uri.is_empty()).then_some(target_uri);
        for value in [target, concurrent_to, Some(content_type)]
            .into_iter()
            .flatten()
        {
            check_field_value(value).map_err(|e| self.invalid_input(e))?;
        }
        self.rotate_if_needed()?;
        let date = date.trunc_subsecs(6);
        let record_id = new_record_id();
        let digest = payload_digest(block);
        let mut fields = vec![
            ("WARC-Type", "metadata".to_string()),
            ("WARC-Record-ID", record_id.clone()),
            ("WARC-Date", warc_date(&date)),
        ];
        // Optional for metadata records (WARC 1.1, 6.5): a record about several URLs has none.
        if !target_uri.is_empty() {
            fields.push(("WARC-Target-URI", target_uri.to_string()));
        }
        fields.push(("WARC-Warcinfo-ID", self.warcinfo_id.clone()));
        if let Some(id) = concurrent_to {
            fields.push(("WARC-Concurrent-To", id.to_string()));
        }
        fields.extend([
            ("Content-Type", content_type.to_string()),
            ("WARC-Block-Digest", digest.clone()),
        ]);
        let member = gzip_record(&fields, &[block]).map_err(|source| Error::WriteWarc {
            path: self.path(),
            source,
        })?;
        let offset = self.size;
        let token = self.append(&member, 1)?;
        Ok((
            WarcPtr {
                file: self.file_name.clone(),
                offset,
                length: member.len() as u64,
                record_id,
                payload_digest: digest,
                target_uri: target_uri.to_string(),
                date,
                original: None,
            },
            token,
        ))
    }

    fn path(&self) -> PathBuf {
        self.dir.join(&self.file_name)
    }

    fn invalid_input(&self, message: &str) -> Error {
        Error::WriteWarc {
            path: self.path(),
            source: io::Error::new(io::ErrorKind::InvalidInput, message.to_string()),
        }
    }

    /// Every file gets at least one record besides its warcinfo, so a tiny limit cannot
    /// make the writer loop over empty files.
    fn rotate_if_needed(&mut self) -> Result<()> {
        if self.must_rotate
            || self.sync.failed.load(Ordering::SeqCst)
            || (self.records_in_file > 0 && self.size >= self.max_file_size)
        {
            let (file, file_name, warcinfo_id, size) = start_file(&self.dir)?;
            // The old file's unsynced records keep its FileSync alive through their tokens.
            self.sync = FileSync::new(&file, self.dir.join(&file_name), size)?;
            self.file = file;
            self.file_name = file_name;
            self.warcinfo_id = warcinfo_id;
            self.size = size;
            self.records_in_file = 0;
            self.must_rotate = false;
        }
        Ok(())
    }

    /// Writes complete members (not yet fsynced: see [`SyncToken`]); on failure cuts the
    /// file back to where it was so readers never meet a half record, and moves later
    /// writes to a fresh file.
    fn append(&mut self, bytes: &[u8], records: u64) -> Result<SyncToken> {
        if let Err(source) = self.file.write_all(bytes) {
            self.must_rotate = true;
            if let Err(e) = self
                .file
                .set_len(self.size)
                .and_then(|()| self.file.sync_data())
            {
                tracing::error!(
                    file = %self.path().display(),
                    error = %e,
                    "cannot truncate WARC file after a failed write; its tail may hold a partial record"
                );
            }
            return Err(Error::WriteWarc {
                path: self.path(),
                source,
            });
        }
        self.size += bytes.len() as u64;
        self.records_in_file += records;
        self.sync.appended.store(self.size, Ordering::SeqCst);
        Ok(SyncToken {
            sync: self.sync.clone(),
            end: self.size,
        })
    }
}

/// Creates the next file and writes its warcinfo record; returns the file, its name, the
/// warcinfo record id and the file's size.
fn start_file(dir: &Path) -> Result<(File, String, String, u64)> {
    // Timestamp first, then a sequence number: names sort in creation order, which is the
    // order a rebuild wants to replay them in.
    let stamp = Utc::now().format("%Y%m%d%H%M%S").to_string();
    let mut seq: u32 = 0;
    let (mut file, name, path) = loop {
        let name = format!("{FILE_PREFIX}{stamp}-{seq:05}{FILE_SUFFIX}");
        let path = dir.join(&name);
        match OpenOptions::new().append(true).create_new(true).open(&path) {
            Ok(file) => break (file, name, path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && seq < 99_999 => seq += 1,
            Err(source) => return Err(Error::WriteWarc { path, source }),
        }
    };
    let warcinfo_id = new_record_id();
    let block = format!(
        "software: luutru/{}\r\nformat: WARC File Format 1.1\r\n\
         conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n",
        env!("CARGO_PKG_VERSION")
    );
    let fields = [
        ("WARC-Type", "warcinfo".to_string()),
        ("WARC-Record-ID", warcinfo_id.clone()),
        ("WARC-Date", warc_date(&Utc::now().trunc_subsecs(6))),
        ("WARC-Filename", name.clone()),
        ("Content-Type", "application/warc-fields".to_string()),
        ("WARC-Block-Digest", payload_digest(block.as_bytes())),
    ];
    let written = gzip_record(&fields, &[block.as_bytes()]).and_then(|member| {
        file.write_all(&member)?;
        file.sync_data()?;
        sync_dir(dir)?;
        Ok(member.len() as u64)
    });
    match written {
        Ok(size) => Ok((file, name, warcinfo_id, size)),
        Err(source) => {
            // A file without its warcinfo would only confuse readers; it holds nothing else.
            drop(file);
            if let Err(e) = fs::remove_file(&path) {
                tracing::warn!(file = %path.display(), error = %e, "cannot remove unusable WARC file");
            }
            Err(Error::WriteWarc { path, source })
        }
    }
}

/// Makes the new file's directory entry durable, so a pointer into it survives a crash.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

fn new_record_id() -> String {
    format!("<urn:uuid:{}>", uuid::Uuid::new_v4())
}

fn warc_date(date: &DateTime<Utc>) -> String {
    date.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// WARC header values are single lines of visible characters here (URIs, ids, media types).
fn check_field_value(value: &str) -> std::result::Result<(), &'static str> {
    if value.is_empty() {
        return Err("empty WARC header value");
    }
    if value.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("control character in WARC header value");
    }
    Ok(())
}

/// One WARC record (header fields, then the block given in parts) as one gzip member.
fn gzip_record(fields: &[(&str, String)], block: &[&[u8]]) -> io::Result<Vec<u8>> {
    let block_len: usize = block.iter().map(|part| part.len()).sum();
    let mut record = Vec::with_capacity(block_len + 1024);
    record.extend_from_slice(b"WARC/1.1\r\n");
    for (name, value) in fields {
        record.extend_from_slice(name.as_bytes());
        record.extend_from_slice(b": ");
        record.extend_from_slice(value.as_bytes());
        record.extend_from_slice(b"\r\n");
    }
    record.extend_from_slice(format!("Content-Length: {block_len}\r\n\r\n").as_bytes());
    for part in block {
        record.extend_from_slice(part);
    }
    record.extend_from_slice(CRLF2);
    gzip(&record)
}

/// libdeflate's compression level for WARC records. Its 6 compresses pages of the crawl
/// bench 10% faster than zlib's 6 (zlib-rs) and 2.7% smaller (20.8% against 21.4% of the
/// HTML); its 5 is 27% faster, 2.0% smaller. The WARC files are the archive and most of the
/// store, so the smaller output wins.
const WARC_GZIP_LEVEL: i32 = 6;

/// `data` as one gzip member. Whole-buffer compression (libdeflate) rather than streaming:
/// a record is in memory anyway, and compressors are reused ([`super::Pool`]), since
/// making one allocates and clears its tables (creating zlib's state for every record took
/// 2.7% of a first crawl's CPU).
fn gzip(data: &[u8]) -> io::Result<Vec<u8>> {
    static COMPRESSORS: super::Pool<libdeflater::Compressor> = super::Pool::new();
    let make = || {
        let level =
            libdeflater::CompressionLvl::new(WARC_GZIP_LEVEL).expect("a level libdeflate has");
        Some(libdeflater::Compressor::new(level))
    };
    let compressed = COMPRESSORS.with(make, |compressor| {
        let mut out = vec![0; compressor.gzip_compress_bound(data.len())];
        let len = compressor.gzip_compress(data, &mut out)?;
        out.truncate(len);
        out.shrink_to_fit();
        Ok(out)
    });
    // Fails only when the output does not fit, and it was given libdeflate's bound.
    compressed
        .expect("make always gives a compressor")
        .map_err(|e: libdeflater::CompressionError| io::Error::other(format!("gzip: {e}")))
}

/// The response head to archive: as received, except that `Transfer-Encoding` is renamed
/// (see [`ORIG_TRANSFER_ENCODING`]).
fn archival_head(head: &[u8]) -> Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let mut start = 0;
    let mut first = true;
    while start < head.len() {
        let end = head[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(head.len(), |i| start + i + 1);
        let line = &head[start..end];
        let is_te = !first
            && line.iter().position(|&b| b == b':').is_some_and(|colon| {
                line[..colon]
                    .trim_ascii()
                    .eq_ignore_ascii_case(b"transfer-encoding")
            });
        if is_te {
            let buf = out.get_or_insert_with(|| head[..start].to_vec());
            let colon = line.iter().position(|&b| b == b':').unwrap_or(0);
            buf.extend_from_slice(ORIG_TRANSFER_ENCODING.as_bytes());
            buf.extend_from_slice(&line[colon..]);
        } else if let Some(buf) = out.as_mut() {
            buf.extend_from_slice(line);
        }
        first = false;
        start = end;
    }
    match out {
        Some(v) => Cow::Owned(v),
        None => Cow::Borrowed(head),
    }
}

/// The bytes after an HTTP head's blank line (a request's payload).
fn after_head(message: &[u8]) -> &[u8] {
    find(message, CRLF2).map_or(&[][..], |i| &message[i + 4..])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Reads the response at `ptr`; for a revisit, takes the head from the revisit record and
/// the payload from `ptr.original`. Digests are checked on the way.
pub fn read_response(dir: &Path, ptr: &WarcPtr) -> Result<HttpResponse> {
    let record = read_record(dir, ptr)?;
    let fail = |message: String| Error::ReadWarc {
        path: dir.join(&ptr.file),
        offset: ptr.offset,
        message,
    };
    match record.warc_type() {
        Some("response") => {
            let response = parse_http_response(&record.block).map_err(fail)?;
            let digest = payload_digest(&response.body);
            if digest != ptr.payload_digest {
                return Err(fail(format!(
                    "payload digest {digest} does not match the pointer's {}",
                    ptr.payload_digest
                )));
            }
            Ok(response)
        }
        Some("revisit") => {
            let original = ptr
                .original
                .as_deref()
                .ok_or_else(|| fail("revisit record but the pointer names no original".into()))?;
            let mut response = parse_http_response(&record.block).map_err(fail)?;
            let source = read_record(dir, original)?;
            if source.warc_type() != Some("response") {
                return Err(fail(format!(
                    "revisit original {} at {}:{} is a {} record, not a response",
                    original.record_id,
                    original.file,
                    original.offset,
                    source.warc_type().unwrap_or("untyped")
                )));
            }
            let body = parse_http_response(&source.block)
                .map_err(|message| Error::ReadWarc {
                    path: dir.join(&original.file),
                    offset: original.offset,
                    message,
                })?
                .body;
            let digest = payload_digest(&body);
            if digest != ptr.payload_digest {
                return Err(fail(format!(
                    "original payload digest {digest} does not match the revisit's {}",
                    ptr.payload_digest
                )));
            }
            response.body = body;
            Ok(response)
        }
        other => Err(fail(format!(
            "expected a response or revisit record, found {}",
            other.unwrap_or("a record without WARC-Type")
        ))),
    }
}

/// Reads and checks the one record of the member `ptr` points at.
fn read_record(dir: &Path, ptr: &WarcPtr) -> Result<WarcRecordInfo> {
    let path = dir.join(&ptr.file);
    let fail = |message: String| Error::ReadWarc {
        path: path.clone(),
        offset: ptr.offset,
        message,
    };
    // The pointer comes from the database; never let it name a file outside the directory.
    if ptr.file.is_empty() || ptr.file.contains(['/', '\\']) || ptr.file == "." || ptr.file == ".."
    {
        return Err(fail(format!("invalid WARC file name `{}`", ptr.file)));
    }
    let member = read_member(&path, ptr.offset, ptr.length).map_err(fail)?;
    let (headers, block, _) = parse_record(&member).map_err(fail)?;
    let record = WarcRecordInfo {
        file: ptr.file.clone(),
        offset: ptr.offset,
        length: ptr.length,
        headers,
        block,
    };
    if record.header("WARC-Record-ID") != Some(ptr.record_id.as_str()) {
        return Err(fail(format!(
            "record there is {}, not {}",
            record.header("WARC-Record-ID").unwrap_or("unnamed"),
            ptr.record_id
        )));
    }
    if let Some(expected) = record.header("WARC-Block-Digest") {
        if expected.starts_with("sha1:") && payload_digest(&record.block) != expected {
            return Err(fail("block digest mismatch: record is corrupt".into()));
        }
    }
    Ok(record)
}

/// Decompresses exactly one gzip member of `length` bytes at `offset`.
fn read_member(path: &Path, offset: u64, length: u64) -> std::result::Result<Vec<u8>, String> {
    let mut file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| format!("cannot seek: {e}"))?;
    let mut decoder = flate2::bufread::GzDecoder::new(BufReader::new(file.take(length)));
    let mut out = Vec::new();
    decoder
        .read_to_end(&mut out)
        .map_err(|e| format!("cannot decompress gzip member of {length} bytes: {e}"))?;
    let mut rest = decoder.into_inner();
    let left = rest
        .fill_buf()
        .map_err(|e| format!("cannot read: {e}"))?
        .len();
    if left > 0 {
        return Err(format!(
            "gzip member ends before the pointer's length {length}"
        ));
    }
    Ok(out)
}

/// WARC headers, block, and the bytes of input the record took.
type ParsedRecord = (Vec<(String, String)>, Vec<u8>, usize);

/// Parses one WARC record at the start of `data`.
fn parse_record(data: &[u8]) -> std::result::Result<ParsedRecord, String> {
    if !data.starts_with(b"WARC/") {
        return Err("not a WARC record (no WARC/ version line)".into());
    }
    let head_end = find(data, CRLF2).ok_or("WARC header block has no end")?;
    let head = String::from_utf8_lossy(&data[..head_end]);
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n").skip(1) {
        if line.starts_with([' ', '\t']) {
            // Obsolete line folding: the line continues the previous value.
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("malformed WARC header line `{line}`"))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let length: usize = header_value(&headers, "Content-Length")
        .ok_or("WARC record has no Content-Length")?
        .parse()
        .map_err(|e| format!("bad Content-Length: {e}"))?;
    let block_start = head_end + 4;
    let block_end = block_start
        .checked_add(length)
        .filter(|&end| end <= data.len())
        .ok_or_else(|| {
            format!(
                "record block of {length} bytes runs past the end of its data ({} bytes)",
                data.len() - block_start
            )
        })?;
    if data.get(block_end..block_end + 4) != Some(CRLF2) {
        return Err("record block is not followed by CRLF CRLF".into());
    }
    Ok((
        headers,
        data[block_start..block_end].to_vec(),
        block_end + 4,
    ))
}

/// Splits an `application/http; msgtype=response` block into status, headers and payload.
fn parse_http_response(block: &[u8]) -> std::result::Result<HttpResponse, String> {
    // Whichever blank line comes first ends the head (foreign WARCs may use bare LF).
    let crlf = find(block, CRLF2).map(|i| (i, i + 4));
    let lf = find(block, b"\n\n").map(|i| (i, i + 2));
    let (head, body) = match (crlf, lf) {
        (Some(a), Some(b)) => {
            let (end, start) = a.min(b);
            (&block[..end], &block[start..])
        }
        (Some((end, start)), None) | (None, Some((end, start))) => (&block[..end], &block[start..]),
        // A head without a blank line (a bare revisit head): no payload.
        (None, None) => (block, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    let status = match (parts.next(), parts.next()) {
        (Some(version), Some(code)) if version.starts_with("HTTP/") => code
            .parse::<u16>()
            .map_err(|_| format!("bad HTTP status line `{status_line}`"))?,
        _ => return Err(format!("bad HTTP status line `{status_line}`")),
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = headers.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    Ok(HttpResponse {
        status,
        headers,
        body: body.to_vec(),
    })
}

/// Sequential reader over every `*.warc.gz` in `dir` (file names sorted), yielding each
/// record with its location, for rebuilding the database.
///
/// Errors are items, not the end: a member that decompresses but does not parse yields an
/// error and the scan goes on with the next member; a truncated or corrupt gzip member (the
/// tail of a crash mid-write) yields a `ReadWarc` error and ends that file only.
pub fn scan_dir(dir: &Path) -> Result<impl Iterator<Item = Result<WarcRecordInfo>>> {
    let entries = fs::read_dir(dir).map_err(|source| Error::ReadFile {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::ReadFile {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
        if is_file && name.ends_with(FILE_SUFFIX) {
            files.push(name);
        }
    }
    files.sort();
    Ok(DirScan {
        dir: dir.to_path_buf(),
        files: files.into(),
        current: None,
        pending: VecDeque::new(),
    })
}

struct DirScan {
    dir: PathBuf,
    files: VecDeque<String>,
    current: Option<FileScan>,
    pending: VecDeque<Result<WarcRecordInfo>>,
}

impl Iterator for DirScan {
    type Item = Result<WarcRecordInfo>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if let Some(scan) = self.current.as_mut() {
                match scan.next_member() {
                    Some(items) => self.pending.extend(items),
                    None => self.current = None,
                }
                continue;
            }
            let name = self.files.pop_front()?;
            let path = self.dir.join(&name);
            match File::open(&path) {
                Ok(file) => {
                    self.current = Some(FileScan {
                        path,
                        name,
                        reader: CountingReader {
                            inner: BufReader::with_capacity(1 << 16, file),
                            pos: 0,
                        },
                        done: false,
                    })
                }
                Err(e) => {
                    return Some(Err(Error::ReadWarc {
                        path,
                        offset: 0,
                        message: format!("cannot open: {e}"),
                    }))
                }
            }
        }
    }
}

struct FileScan {
    path: PathBuf,
    name: String,
    reader: CountingReader<BufReader<File>>,
    done: bool,
}

impl FileScan {
    /// The records of the next gzip member, `None` at the end of the file.
    fn next_member(&mut self) -> Option<Vec<Result<WarcRecordInfo>>> {
        if self.done {
            return None;
        }
        let start = self.reader.pos;
        let fail = |message: String| Error::ReadWarc {
            path: self.path.clone(),
            offset: start,
            message,
        };
        match self.reader.fill_buf() {
            Ok([]) => return None,
            Ok(_) => {}
            Err(e) => {
                self.done = true;
                return Some(vec![Err(fail(format!("cannot read: {e}")))]);
            }
        }
        let mut decoder = flate2::bufread::GzDecoder::new(&mut self.reader);
        let mut data = Vec::new();
        if let Err(e) = decoder.read_to_end(&mut data) {
            self.done = true;
            let what = if e.kind() == io::ErrorKind::UnexpectedEof {
                "truncated gzip member at the end of the file (interrupted write?)"
            } else {
                "corrupt gzip member"
            };
            return Some(vec![Err(fail(format!(
                "{what}: {e}; rest of the file skipped"
            )))]);
        }
        drop(decoder);
        let length = self.reader.pos - start;
        let mut items = Vec::new();
        let mut rest = &data[..];
        while !rest.is_empty() {
            match parse_record(rest) {
                Ok((headers, block, used)) => {
                    items.push(Ok(WarcRecordInfo {
                        file: self.name.clone(),
                        offset: start,
                        length,
                        headers,
                        block,
                    }));
                    rest = &rest[used..];
                }
                Err(message) => {
                    items.push(Err(fail(message)));
                    break;
                }
            }
        }
        Some(items)
    }
}

/// Counts the bytes taken from a reader, to learn where each gzip member ends.
struct CountingReader<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountingReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
        self.pos += amt as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use warc::{RecordType, WarcHeader, WarcReader};

    fn gzip(data: &[u8]) -> Vec<u8> {
        use flate2::{write::GzEncoder, Compression};
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).expect("in-memory gzip");
        e.finish().expect("in-memory gzip")
    }

    fn date(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test date")
            .with_timezone(&Utc)
    }

    fn request_head(path: &str, host: &str) -> Vec<u8> {
        format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: luutru-test\r\nAccept-Encoding: gzip\r\n\r\n"
        )
        .into_bytes()
    }

    fn response_head(extra: &str) -> Vec<u8> {
        format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n{extra}\r\n")
            .into_bytes()
    }

    const ARTICLE: &str = "<html><body><h1>Hội nghị Ban Chấp hành Đảng bộ tỉnh</h1>\
        <p>Sáng 12/3, Tỉnh ủy Hải Dương tổ chức hội nghị.</p></body></html>";

    struct Written {
        ptr: WarcPtr,
        head: Vec<u8>,
        body: Vec<u8>,
    }

    /// Three fresh responses (one gzip-encoded, one chunked, one 404) and a revisit of the
    /// first, all in one file.
    fn write_sample(dir: &Path) -> (Vec<Written>, Written) {
        let mut w = WarcWriter::open(dir, DEFAULT_WARC_MAX_FILE_SIZE).expect("open writer");
        let gz_body = gzip(ARTICLE.as_bytes());
        type Case<'a> = (&'a str, Vec<u8>, Vec<u8>, Option<IpAddr>);
        let cases: Vec<Case> = vec![
            (
                "http://tinhuyhaiduong.vn/news/Pages/new.aspx?ItemID=101",
                response_head(&format!(
                    "Content-Encoding: gzip\r\nContent-Length: {}\r\n",
                    gz_body.len()
                )),
                gz_body.clone(),
                Some("127.0.0.1".parse().expect("ip")),
            ),
            (
                "http://127.0.0.2:8080/tin-tuc/ban-tin-102.html",
                response_head("Transfer-Encoding: chunked\r\n"),
                "<p>Bản tin thứ hai</p>".as_bytes().to_vec(),
                None,
            ),
            (
                "http://127.0.0.2:8080/missing",
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
                Vec::new(),
                Some("::1".parse().expect("ip")),
            ),
        ];
        let mut written = Vec::new();
        for (i, (uri, head, body, ip)) in cases.into_iter().enumerate() {
            let req = request_head("/x", "example");
            let ex = Exchange {
                target_uri: uri,
                date: date(&format!("2024-03-12T08:0{i}:05.123456789Z")),
                ip,
                request_head: &req,
                response_head: &head,
                body: &body,
                revisit_of: None,
            };
            let ptr = w.write_exchange(&ex).expect("write exchange");
            written.push(Written { ptr, head, body });
        }
        let head = response_head(&format!(
            "Content-Encoding: gzip\r\nContent-Length: {}\r\nX-Second: yes\r\n",
            gz_body.len()
        ));
        let req = request_head("/y", "example");
        let ptr = w
            .write_exchange(&Exchange {
                target_uri: "http://tinhuyhaiduong.vn/news/Pages/new.aspx?ItemID=101&CatID=7",
                date: date("2024-03-13T09:00:00Z"),
                ip: None,
                request_head: &req,
                response_head: &head,
                body: &gz_body,
                revisit_of: Some(&written[0].ptr),
            })
            .expect("write revisit");
        (
            written,
            Written {
                ptr,
                head,
                body: gz_body,
            },
        )
    }

    fn warc_files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("read dir")
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    fn sha1_b32(data: &[u8]) -> String {
        let mut h = Sha1::new();
        h.update(data);
        format!("sha1:{}", data_encoding::BASE32.encode(&h.finalize()))
    }

    #[test]
    fn payload_digest_matches_known_value() {
        // The SHA-1 of the empty string in base32, as warcio writes it for empty payloads.
        assert_eq!(payload_digest(b""), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
        assert_eq!(
            payload_digest(b"abc"),
            "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5"
        );
    }

    #[test]
    fn read_response_returns_exactly_what_was_written() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (written, revisit) = write_sample(tmp.path());
        for w in &written {
            let r = read_response(tmp.path(), &w.ptr).expect("read back");
            assert_eq!(r.body, w.body, "{}", w.ptr.target_uri);
            assert_eq!(w.ptr.payload_digest, sha1_b32(&w.body));
            assert!(w.ptr.original.is_none());
        }
        let first = read_response(tmp.path(), &written[0].ptr).expect("read first");
        assert_eq!(first.status, 200);
        assert_eq!(first.header("content-encoding"), Some("gzip"));
        let mut decoded = String::new();
        flate2::read::GzDecoder::new(&first.body[..])
            .read_to_string(&mut decoded)
            .expect("body still gzip-encoded as sent");
        assert_eq!(decoded, ARTICLE);

        let chunked = read_response(tmp.path(), &written[1].ptr).expect("read chunked");
        assert_eq!(chunked.header("Transfer-Encoding"), None);
        assert_eq!(chunked.header(ORIG_TRANSFER_ENCODING), Some("chunked"));

        assert_eq!(
            read_response(tmp.path(), &written[2].ptr)
                .expect("404")
                .status,
            404
        );

        // The revisit: its own head, the first response's payload.
        let orig = revisit
            .ptr
            .original
            .as_deref()
            .expect("revisit has original");
        assert_eq!(orig, &written[0].ptr);
        assert_eq!(revisit.ptr.payload_digest, written[0].ptr.payload_digest);
        let r = read_response(tmp.path(), &revisit.ptr).expect("read revisit");
        assert_eq!(r.header("X-Second"), Some("yes"));
        assert_eq!(r.body, revisit.body);
        assert_eq!(r.status, 200);
        // The pointer survives a round trip through the database's serde form.
        let json = serde_json::to_string(&revisit.ptr).expect("serialize");
        let back: WarcPtr = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, revisit.ptr);
        let plain = serde_json::to_string(&written[0].ptr).expect("serialize");
        assert!(!plain.contains("original"));
    }

    #[test]
    fn revisit_stores_no_payload_and_chains_to_the_real_original() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (written, revisit) = write_sample(tmp.path());
        let file = tmp.path().join(&revisit.ptr.file);
        let bytes = fs::read(&file).expect("read file");
        let member = &bytes[revisit.ptr.offset as usize..][..revisit.ptr.length as usize];
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(member)
            .read_to_end(&mut text)
            .expect("member decodes");
        assert!(find(&text, &revisit.body).is_none(), "payload not repeated");

        // A revisit of the revisit points at the response itself.
        let mut w = WarcWriter::open(tmp.path(), DEFAULT_WARC_MAX_FILE_SIZE).expect("open");
        let req = request_head("/z", "example");
        let ptr = w
            .write_exchange(&Exchange {
                target_uri: "http://tinhuyhaiduong.vn/z",
                date: date("2024-03-14T00:00:00Z"),
                ip: None,
                request_head: &req,
                response_head: &revisit.head,
                body: &revisit.body,
                revisit_of: Some(&revisit.ptr),
            })
            .expect("write");
        assert_eq!(ptr.original.as_deref(), Some(&written[0].ptr));
        assert_eq!(
            read_response(tmp.path(), &ptr).expect("read").body,
            revisit.body
        );

        // A revisit asked for a different payload writes the payload instead.
        let other = b"<p>changed</p>".to_vec();
        let head = response_head("");
        let ptr = w
            .write_exchange(&Exchange {
                target_uri: "http://tinhuyhaiduong.vn/z",
                date: date("2024-03-15T00:00:00Z"),
                ip: None,
                request_head: &req,
                response_head: &head,
                body: &other,
                revisit_of: Some(&written[0].ptr),
            })
            .expect("write");
        assert!(ptr.original.is_none());
        assert_eq!(read_response(tmp.path(), &ptr).expect("read").body, other);
    }

    #[test]
    fn independent_reader_sees_records_digests_and_pointers() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (written, revisit) = write_sample(tmp.path());
        let files = warc_files(tmp.path());
        assert_eq!(files.len(), 1);
        assert!(files[0].starts_with("luutru-") && files[0].ends_with(".warc.gz"));
        let path = tmp.path().join(&files[0]);

        let records: Vec<_> = WarcReader::from_path_gzip(&path)
            .expect("open with warc crate")
            .iter_records()
            .collect::<std::result::Result<_, _>>()
            .expect("warc crate parses every record");
        let types: Vec<RecordType> = records.iter().map(|r| r.warc_type().clone()).collect();
        use RecordType::*;
        assert_eq!(
            types,
            vec![
                WarcInfo, Request, Response, Request, Response, Request, Response, Request, Revisit
            ]
        );
        for r in &records {
            assert_eq!(r.warc_version(), "1.1");
            let block_digest = r.header(WarcHeader::BlockDigest).expect("block digest");
            assert_eq!(
                block_digest,
                sha1_b32(r.body()),
                "block digest of {}",
                r.warc_id()
            );
            match r.warc_type() {
                Response | Request => {
                    let body = r.body();
                    let split = find(body, CRLF2).expect("http head") + 4;
                    assert_eq!(
                        r.header(WarcHeader::PayloadDigest).expect("payload digest"),
                        sha1_b32(&body[split..])
                    );
                    let msgtype = if *r.warc_type() == Response {
                        "response"
                    } else {
                        "request"
                    };
                    assert_eq!(
                        r.header(WarcHeader::ContentType).expect("content type"),
                        format!("application/http; msgtype={msgtype}")
                    );
                }
                Revisit => {
                    assert_eq!(
                        r.header(WarcHeader::Profile).expect("profile"),
                        REVISIT_PROFILE
                    );
                    assert_eq!(
                        r.header(WarcHeader::RefersTo).expect("refers to"),
                        written[0].ptr.record_id
                    );
                    assert_eq!(
                        r.header(WarcHeader::Unknown("warc-refers-to-target-uri".into()))
                            .expect("refers-to target"),
                        written[0].ptr.target_uri
                    );
                    assert_eq!(
                        r.header(WarcHeader::Unknown("warc-refers-to-date".into()))
                            .expect("refers-to date"),
                        "2024-03-12T08:00:05.123456Z"
                    );
                    assert_eq!(
                        r.header(WarcHeader::PayloadDigest).expect("payload digest"),
                        sha1_b32(&revisit.body)
                    );
                    assert_eq!(r.body(), &revisit.head[..]);
                }
                _ => {}
            }
        }
        // Requests name their response.
        for pair in records[1..].chunks(2) {
            assert_eq!(
                pair[0]
                    .header(WarcHeader::ConcurrentTo)
                    .expect("concurrent-to"),
                pair[1].warc_id()
            );
            assert_eq!(
                pair[0].header(WarcHeader::TargetURI),
                pair[1].header(WarcHeader::TargetURI)
            );
        }
        assert_eq!(
            records[2].header(WarcHeader::IPAddress).as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(records[4].header(WarcHeader::IPAddress), None);

        // Every pointer's byte range is exactly one gzip member holding its record.
        let bytes = fs::read(&path).expect("read file");
        for w in written.iter().chain([&revisit]) {
            let member = &bytes[w.ptr.offset as usize..][..w.ptr.length as usize];
            let mut decoder = flate2::bufread::GzDecoder::new(member);
            let mut text = Vec::new();
            decoder.read_to_end(&mut text).expect("one member");
            assert!(decoder.into_inner().is_empty(), "member fills the range");
            let rec = WarcReader::new(Cursor::new(text))
                .iter_records()
                .next()
                .expect("a record")
                .expect("parses");
            assert_eq!(rec.warc_id(), w.ptr.record_id);
            assert_eq!(
                rec.header(WarcHeader::TargetURI).as_deref(),
                Some(&*w.ptr.target_uri)
            );
            assert_eq!(*rec.date(), w.ptr.date);
            if w.ptr.original.is_none() {
                assert_eq!(
                    rec.body(),
                    [&archival_head(&w.head)[..], &w.body[..]].concat()
                );
            }
        }
        assert_eq!(written[0].ptr.date, date("2024-03-12T08:00:05.123456Z"));
    }

    #[test]
    fn scan_dir_yields_every_record_at_its_pointer() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (written, revisit) = write_sample(tmp.path());
        let infos: Vec<WarcRecordInfo> = scan_dir(tmp.path())
            .expect("scan")
            .collect::<Result<_>>()
            .expect("no errors");
        assert_eq!(infos.len(), 9);
        assert_eq!(infos[0].warc_type(), Some("warcinfo"));
        assert!(String::from_utf8_lossy(&infos[0].block)
            .contains(&format!("software: luutru/{}", env!("CARGO_PKG_VERSION"))));
        assert_eq!(infos[0].offset, 0);
        // Members tile the file.
        for pair in infos.windows(2) {
            assert_eq!(pair[0].offset + pair[0].length, pair[1].offset);
        }
        let len = fs::metadata(tmp.path().join(&infos[0].file))
            .expect("meta")
            .len();
        let last = infos.last().expect("records");
        assert_eq!(last.offset + last.length, len);
        for w in written.iter().chain([&revisit]) {
            let info = infos
                .iter()
                .find(|i| i.offset == w.ptr.offset)
                .expect("pointer offset is a record start");
            let mut ptr = info.to_ptr().expect("pointer from headers");
            ptr.original = w.ptr.original.clone();
            assert_eq!(ptr, w.ptr);
        }
        let resp = infos[2].http_response().expect("http response");
        assert_eq!(resp.body, written[0].body);
        let rev = infos[8].http_response().expect("revisit head");
        assert_eq!(rev.header("X-Second"), Some("yes"));
        assert!(rev.body.is_empty());
    }

    #[test]
    fn rotates_at_the_size_limit() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut w = WarcWriter::open(tmp.path(), 1).expect("open");
        let req = request_head("/", "example");
        let head = response_head("");
        let mut ptrs = Vec::new();
        for i in 0..3 {
            let body = format!("<p>trang {i}</p>").into_bytes();
            ptrs.push(
                w.write_exchange(&Exchange {
                    target_uri: &format!("http://127.0.0.3/{i}"),
                    date: Utc::now(),
                    ip: None,
                    request_head: &req,
                    response_head: &head,
                    body: &body,
                    revisit_of: None,
                })
                .expect("write"),
            );
        }
        let files = warc_files(tmp.path());
        assert_eq!(files.len(), 3);
        let ptr_files: Vec<&str> = ptrs.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(
            ptr_files,
            files.iter().map(String::as_str).collect::<Vec<_>>()
        );
        for (i, p) in ptrs.iter().enumerate() {
            assert_eq!(
                read_response(tmp.path(), p).expect("read").body,
                format!("<p>trang {i}</p>").into_bytes()
            );
        }
        let infos: Vec<WarcRecordInfo> = scan_dir(tmp.path())
            .expect("scan")
            .collect::<Result<_>>()
            .expect("no errors");
        let types: Vec<&str> = infos.iter().filter_map(|i| i.warc_type()).collect();
        assert_eq!(types, ["warcinfo", "request", "response"].repeat(3));
        // Each file's warcinfo names the file; records name their file's warcinfo.
        for chunk in infos.chunks(3) {
            assert_eq!(
                chunk[0].header("WARC-Filename"),
                Some(chunk[0].file.as_str())
            );
            for r in &chunk[1..] {
                assert_eq!(
                    r.header("WARC-Warcinfo-ID"),
                    chunk[0].header("WARC-Record-ID")
                );
            }
        }

        // Below the limit nothing rotates.
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut w = WarcWriter::open(tmp.path(), 1 << 20).expect("open");
        for i in 0..3 {
            w.write_exchange(&Exchange {
                target_uri: &format!("http://127.0.0.3/{i}"),
                date: Utc::now(),
                ip: None,
                request_head: &req,
                response_head: &head,
                body: b"x",
                revisit_of: None,
            })
            .expect("write");
        }
        assert_eq!(warc_files(tmp.path()).len(), 1);
    }

    #[test]
    fn scan_dir_stops_a_file_at_a_truncated_member_and_goes_on() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (written, revisit) = write_sample(tmp.path());
        let first = tmp.path().join(&revisit.ptr.file);
        // A crash in the middle of writing the revisit member.
        let cut = revisit.ptr.offset + revisit.ptr.length / 2;
        let file = OpenOptions::new().write(true).open(&first).expect("open");
        file.set_len(cut).expect("truncate");
        drop(file);
        // A later file, written after the restart.
        let mut w = WarcWriter::open(tmp.path(), DEFAULT_WARC_MAX_FILE_SIZE).expect("open");
        let req = request_head("/", "example");
        let head = response_head("");
        let later = w
            .write_exchange(&Exchange {
                target_uri: "http://127.0.0.4/sau",
                date: Utc::now(),
                ip: None,
                request_head: &req,
                response_head: &head,
                body: b"<p>sau</p>",
                revisit_of: None,
            })
            .expect("write");
        assert!(
            later.file > revisit.ptr.file,
            "names sort in creation order"
        );

        let items: Vec<Result<WarcRecordInfo>> = scan_dir(tmp.path()).expect("scan").collect();
        // warcinfo + 3 exchanges + the revisit's request, then the error, then the new file.
        assert_eq!(items.len(), 8 + 1 + 3);
        assert!(items[..8].iter().all(|i| i.is_ok()));
        match &items[8] {
            Err(Error::ReadWarc {
                path,
                offset,
                message,
            }) => {
                assert_eq!(path, &first);
                assert_eq!(*offset, revisit.ptr.offset);
                assert!(message.contains("truncated"), "{message}");
            }
            other => panic!("expected a truncation error, got {other:?}"),
        }
        let tail: Vec<&WarcRecordInfo> = items[9..]
            .iter()
            .map(|i| i.as_ref().expect("later file reads"))
            .collect();
        assert_eq!(tail[2].offset, later.offset);
        assert_eq!(tail[2].file, later.file);
        // Complete records before the cut still read through their pointers.
        assert_eq!(
            read_response(tmp.path(), &written[2].ptr)
                .expect("read")
                .status,
            404
        );
        assert!(read_response(tmp.path(), &revisit.ptr).is_err());

        // Garbage after the last member (not gzip at all) also ends the file with an error.
        let tmp = tempfile::tempdir().expect("tempdir");
        let (_, revisit) = write_sample(tmp.path());
        let mut f = OpenOptions::new()
            .append(true)
            .open(tmp.path().join(&revisit.ptr.file))
            .expect("open");
        f.write_all(b"\0\0\0\0garbage").expect("append");
        let items: Vec<Result<WarcRecordInfo>> = scan_dir(tmp.path()).expect("scan").collect();
        assert_eq!(items.len(), 10);
        assert!(items[..9].iter().all(|i| i.is_ok()));
        assert!(items[9].is_err());

        // A file cut inside the gzip header of a member.
        let tmp = tempfile::tempdir().expect("tempdir");
        let (written, _) = write_sample(tmp.path());
        let f = OpenOptions::new()
            .write(true)
            .open(tmp.path().join(&written[0].ptr.file))
            .expect("open");
        f.set_len(written[0].ptr.offset + 3).expect("truncate");
        let items: Vec<Result<WarcRecordInfo>> = scan_dir(tmp.path()).expect("scan").collect();
        assert_eq!(items.len(), 3);
        assert!(items[2].is_err());
    }

    #[test]
    fn a_record_is_one_gzip_member_and_a_reused_compressor_keeps_nothing_of_the_last() {
        let page = "<p>Tỉnh ủy Hải Dương tổ chức hội nghị</p>".repeat(2_000);
        let fields = [("WARC-Type", "resource".to_string())];
        let first = gzip_record(&fields, &[page.as_bytes()]).expect("in-memory gzip");
        // Other data through the pooled compressors, then the same record again.
        for n in [0, 1, 70_000] {
            super::gzip(&vec![b'x'; n]).expect("in-memory gzip");
        }
        let again = gzip_record(&fields, &[page.as_bytes()]).expect("in-memory gzip");
        assert_eq!(first, again);
        assert!(first.len() < page.len() / 10, "{} bytes", first.len());
        // One member, read whole by a single-member decoder, nothing after it.
        let mut decoder = flate2::bufread::GzDecoder::new(&first[..]);
        let mut text = String::new();
        decoder.read_to_string(&mut text).expect("a gzip member");
        assert!(decoder.into_inner().is_empty());
        let expected = format!(
            "WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: {}\r\n\r\n{page}\r\n\r\n",
            page.len()
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn bad_pointers_are_errors_not_panics() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (written, revisit) = write_sample(tmp.path());
        let good = &written[1].ptr;
        let bad = [
            WarcPtr {
                offset: good.offset + 1,
                ..good.clone()
            },
            WarcPtr {
                length: good.length - 1,
                ..good.clone()
            },
            WarcPtr {
                length: good.length + 10,
                ..good.clone()
            },
            WarcPtr {
                offset: u64::MAX - 3,
                ..good.clone()
            },
            WarcPtr {
                record_id: written[0].ptr.record_id.clone(),
                ..good.clone()
            },
            WarcPtr {
                payload_digest: written[0].ptr.payload_digest.clone(),
                ..good.clone()
            },
            WarcPtr {
                file: "../etc/passwd".into(),
                ..good.clone()
            },
            WarcPtr {
                file: "luutru-none.warc.gz".into(),
                ..good.clone()
            },
            WarcPtr {
                original: None,
                ..revisit.ptr.clone()
            },
            // The record before a response is its request.
            WarcPtr {
                original: Some(Box::new(WarcPtr {
                    offset: 0,
                    ..written[0].ptr.clone()
                })),
                ..revisit.ptr.clone()
            },
        ];
        for ptr in &bad {
            assert!(read_response(tmp.path(), ptr).is_err(), "{ptr:?}");
        }
    }

    #[test]
    fn malformed_exchanges_are_rejected_before_writing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut w = WarcWriter::open(tmp.path(), DEFAULT_WARC_MAX_FILE_SIZE).expect("open");
        let size = |t: &Path| {
            fs::metadata(t.join(warc_files(t).remove(0)))
                .expect("meta")
                .len()
        };
        let before = size(tmp.path());
        let req = request_head("/", "example");
        let head = response_head("");
        let base = Exchange {
            target_uri: "http://127.0.0.1/a",
            date: Utc::now(),
            ip: None,
            request_head: &req,
            response_head: &head,
            body: b"",
            revisit_of: None,
        };
        for ex in [
            Exchange {
                target_uri: "http://127.0.0.1/a\r\nWARC-Type: x",
                ..base
            },
            Exchange {
                target_uri: "",
                ..base
            },
            Exchange {
                response_head: b"HTTP/1.1 200 OK\r\n",
                ..base
            },
            Exchange {
                request_head: b"GET / HTTP/1.1\r\n",
                ..base
            },
        ] {
            assert!(matches!(
                w.write_exchange(&ex),
                Err(Error::WriteWarc { .. })
            ));
        }
        assert_eq!(size(tmp.path()), before);
        assert!(w.write_exchange(&base).is_ok());
    }

    #[test]
    fn a_failed_write_moves_later_writes_to_a_fresh_file() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut w = WarcWriter::open(tmp.path(), DEFAULT_WARC_MAX_FILE_SIZE).expect("open");
        let first = w.current_file().to_string();
        let first_len = fs::metadata(tmp.path().join(&first)).expect("meta").len();
        // A read-only handle makes the append fail the way a full or broken disk would.
        w.file = File::open(tmp.path().join(&first)).expect("reopen read-only");
        let req = request_head("/", "example");
        let head = response_head("");
        let ex = Exchange {
            target_uri: "http://127.0.0.1/a",
            date: Utc::now(),
            ip: None,
            request_head: &req,
            response_head: &head,
            body: b"<p>a</p>",
            revisit_of: None,
        };
        assert!(matches!(
            w.write_exchange(&ex),
            Err(Error::WriteWarc { .. })
        ));
        let ptr = w.write_exchange(&ex).expect("next write succeeds");
        assert_ne!(ptr.file, first);
        assert_eq!(
            fs::metadata(tmp.path().join(&first)).expect("meta").len(),
            first_len
        );
        let infos: Vec<WarcRecordInfo> = scan_dir(tmp.path())
            .expect("scan")
            .collect::<Result<_>>()
            .expect("no half records anywhere");
        assert_eq!(infos.len(), 4);
        assert_eq!(
            read_response(tmp.path(), &ptr).expect("read").body,
            b"<p>a</p>"
        );
    }

    #[test]
    fn concurrent_writers_share_fsyncs_and_every_record_reads_back() {
        let tmp = tempfile::tempdir().expect("tempdir");
        // A small limit makes files rotate while other threads still wait on the old one.
        let w = Mutex::new(WarcWriter::open(tmp.path(), 4096).expect("open"));
        let req = request_head("/", "example");
        let head = response_head("");
        let ptrs: Vec<(WarcPtr, Vec<u8>)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|t| {
                    let (w, req, head) = (&w, &req, &head);
                    scope.spawn(move || {
                        let mut out = Vec::new();
                        for i in 0..25 {
                            let body = format!("<p>luồng {t} trang {i}</p>").into_bytes();
                            let uri = format!("http://127.0.0.4/{t}/{i}");
                            let ex = Exchange {
                                target_uri: &uri,
                                date: Utc::now(),
                                ip: None,
                                request_head: req,
                                response_head: head,
                                body: &body,
                                revisit_of: None,
                            };
                            let (ptr, token) = loop {
                                let target = w.lock().expect("lock").target().expect("target");
                                let prepared = target.prepare_exchange(&ex, None).expect("prepare");
                                if let Some(done) = w
                                    .lock()
                                    .expect("lock")
                                    .append_exchange(prepared)
                                    .expect("append")
                                {
                                    break done;
                                }
                            };
                            token.wait().expect("fsync");
                            out.push((ptr, body));
                        }
                        out
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|h| h.join().expect("worker"))
                .collect()
        });
        assert_eq!(ptrs.len(), 100);
        assert!(warc_files(tmp.path()).len() > 1, "the files rotated");
        for (ptr, body) in &ptrs {
            assert_eq!(&read_response(tmp.path(), ptr).expect("read").body, body);
        }
        let infos: Vec<WarcRecordInfo> = scan_dir(tmp.path())
            .expect("scan")
            .collect::<Result<_>>()
            .expect("no half records");
        let responses = infos
            .iter()
            .filter(|i| i.warc_type() == Some("response"))
            .count();
        assert_eq!(responses, 100);
    }

    #[test]
    fn a_prepared_exchange_for_a_rotated_file_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut w = WarcWriter::open(tmp.path(), 1).expect("open");
        let req = request_head("/", "example");
        let head = response_head("");
        let ex = Exchange {
            target_uri: "http://127.0.0.4/x",
            date: Utc::now(),
            ip: None,
            request_head: &req,
            response_head: &head,
            body: b"<p>x</p>",
            revisit_of: None,
        };
        let stale = w
            .target()
            .expect("target")
            .prepare_exchange(&ex, None)
            .expect("prepare");
        // Another record fills the file past its limit: the next append goes to a new file,
        // whose warcinfo the stale records do not name.
        w.write_exchange(&ex).expect("write");
        assert!(w.append_exchange(stale).expect("append").is_none());
        let ptr = w.write_exchange(&ex).expect("write again");
        assert_eq!(
            read_response(tmp.path(), &ptr).expect("read").body,
            b"<p>x</p>"
        );
    }

    #[test]
    fn metadata_records_read_back() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut w = WarcWriter::open(tmp.path(), DEFAULT_WARC_MAX_FILE_SIZE).expect("open");
        let block = "title: Hội nghị\r\n".as_bytes();
        let ptr = w
            .write_metadata(
                "http://127.0.0.1/a",
                date("2024-01-01T00:00:00Z"),
                Some("<urn:uuid:00000000-0000-4000-8000-000000000000>"),
                "application/warc-fields",
                block,
            )
            .expect("metadata");
        let infos: Vec<WarcRecordInfo> = scan_dir(tmp.path())
            .expect("scan")
            .collect::<Result<_>>()
            .expect("no errors");
        assert_eq!(infos.len(), 2);
        assert_eq!(infos[1].warc_type(), Some("metadata"));
        assert_eq!(infos[1].offset, ptr.offset);
        assert_eq!(infos[1].block, block);
        assert_eq!(
            infos[1].header("WARC-Concurrent-To"),
            Some("<urn:uuid:00000000-0000-4000-8000-000000000000>")
        );
        // Not a response: read_response refuses it.
        assert!(read_response(tmp.path(), &ptr).is_err());
    }

    #[test]
    fn http_blocks_split_at_the_first_blank_line() {
        let r = parse_http_response(b"HTTP/1.0 301 Moved\nLocation: /x\n\nbody\r\n\r\nmore")
            .expect("lf head");
        assert_eq!(r.status, 301);
        assert_eq!(r.header("location"), Some("/x"));
        assert_eq!(r.body, b"body\r\n\r\nmore");
        let r =
            parse_http_response(b"HTTP/2 204\r\nA: 1\r\n  folded\r\n\r\n\n\nx").expect("crlf head");
        assert_eq!(r.status, 204);
        assert_eq!(r.header("a"), Some("1 folded"));
        assert_eq!(r.body, b"\n\nx");
        assert!(parse_http_response(b"garbage\r\n\r\n").is_err());
        assert!(parse_http_response(b"HTTP/1.1 abc OK\r\n\r\n").is_err());
    }

    #[test]
    fn archival_head_renames_only_transfer_encoding() {
        let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Transfer-Encoding-Note: a\r\ntransfer-encoding : gzip, chunked\r\n\r\n";
        let out = archival_head(head);
        assert_eq!(
            &out[..],
            &b"HTTP/1.1 200 OK\r\nX-Luutru-Orig-Transfer-Encoding: chunked\r\nX-Transfer-Encoding-Note: a\r\nX-Luutru-Orig-Transfer-Encoding: gzip, chunked\r\n\r\n"[..]
        );
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n";
        assert!(matches!(archival_head(plain), Cow::Borrowed(_)));
    }
}
