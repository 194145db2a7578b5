//! Upkeep of the SQLite write-ahead log: a keeper thread copies committed pages back into
//! the database and restarts the log, so that the WAL stays small without the state-change
//! writer ever waiting for the disk; plus the plain connections both threads use.
//!
//! Why a thread of our own: in WAL mode a commit only appends pages to the log (with
//! `synchronous=NORMAL`, no fsync), and a checkpoint later copies them into the database,
//! with an fsync of each file. Left to SQLite, the connection that commits runs the
//! checkpoint itself, fsyncs included, while every webhook waiting on its batch waits too.
//! And the log only starts again from its beginning when a checkpoint has copied all of it
//! and a writer begins before anything new is committed: under a steady stream of commits a
//! passive checkpoint never catches up to the last frame, so the log (and SQLite's index of
//! it, which every page read searches) would grow without end.
//!
//! So the keeper runs passive checkpoints, which never block anyone and pay the fsyncs; and
//! once the log is long and the keeper has caught up to within a few frames of its end, it
//! closes it with one `RESTART` checkpoint: that one holds the write lock while it copies the
//! last few frames, after which the next commit starts the log from its beginning. Under a
//! stream of webhooks that never leaves the keeper that close, it closes a log half as long
//! again with whatever is left to copy. The group-commit writer would otherwise take the lock
//! back between two batches before the keeper could get it, so it gives way (see [`WalTurn`])
//! for the few milliseconds this takes.

use super::sqlite::WRITER_AUTOCHECKPOINT_PAGES;
use rusqlite::Connection;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The log is closed once it holds this many frames (64 MiB of 4 KiB pages).
///
/// Why not shorter: every restart puts three fsyncs on the state-change writer's path (the
/// restart's own two, which hold the write lock, and the one SQLite does after writing a new
/// log's header, in the writer's next commit). An fsync on the dev machine took 0.4 to 1.6 ms
/// at the median and up to 42 ms, and every webhook waiting on the writer waits with it. A
/// VCA writes two to three frames, so at 10,000 VCAs a second 4,096 frames meant five to
/// seven restarts a second; this length, one or two (bench/README.md, item 9, with what it
/// measured).
///
/// It must stay well below the writers' own `wal_autocheckpoint` (`sqlite.rs`): past that
/// length every commit of the state-change writer runs a checkpoint itself, fsyncs included,
/// which is exactly the stall the keeper exists to avoid (measured: 20 ms batches, p99 of
/// the VCA benchmark at ¼ of the bare handler's rate 21 ms instead of 7).
const RESTART_AT_FRAMES: i64 = 16_384;
const _: () = assert!(RESTART_AT_FRAMES * 4 <= WRITER_AUTOCHECKPOINT_PAGES as i64);
/// ... and the keeper's passive checkpoints have left at most this many to copy, so that the
/// `RESTART`, which holds the write lock, only has a few hundred KiB to copy and fsync.
const TAIL_FRAMES: i64 = 64;
/// ... or, once the log is this long, whatever the keeper has left to copy.
///
/// Why: under a sustained stream of webhooks the log grows by hundreds of frames between two
/// of the keeper's catching-up checkpoints (each waits for an fsync), so it never came within
/// [`TAIL_FRAMES`] of its end. It grew on to the writers' own `wal_autocheckpoint`, 65,536
/// frames, where the state-change writer checkpoints it itself, the stall above; the log file
/// grew past 250 MB, every new block of it allocated and zeroed on the writer's path, and the
/// keeper ran a catching-up checkpoint, fsyncs included, every few milliseconds. Measured
/// (bench/README.md, item 14): the log now peaks at 25,000 to 27,000 frames instead of
/// 43,000 to 65,530, the keeper spends 6 to 9 µs per VCA in the closed loop instead of 9 to
/// 14, and the closed loop answered 20,600 to 29,600 VCAs a second against 17,600 to 25,100.
/// The restart that closes the log this way copies a longer tail with the write lock held:
/// up to 9 ms measured, against 4 to 9 under the quiet-moment rule alone.
const CLOSE_ANYWAY_AT_FRAMES: i64 = RESTART_AT_FRAMES * 3 / 2;
const _: () = assert!(CLOSE_ANYWAY_AT_FRAMES * 2 <= WRITER_AUTOCHECKPOINT_PAGES as i64);
/// How often the keeper looks at a log that nothing has written to since its last look.
const LOOK_EVERY: Duration = Duration::from_millis(20);
/// How often it looks while webhooks are being written to the log.
///
/// Why this often: each look's passive checkpoint copies what was committed since the
/// previous one, the kernel copying every page out of the log and into the database in one
/// go. Every 20 ms, at ¼ of the bare handler's rate in the VCA benchmark (20,000 VCAs a
/// second), that was 400 to 900 frames taking 2 to 7 ms, a burst on one of the two cores
/// behind which the webhooks queued; every 5 ms, a quarter of that at a time. Measured
/// (bench/README.md, item 15), six runs of each in turn: the p99 at ¼ of bare 3.4 to 6.1 ms
/// where looking every 20 ms gave 4.2 to 11.6, for 1 to 2 µs more of the keeper's CPU per
/// VCA (it flushes four times as often).
const FOLLOW_EVERY: Duration = Duration::from_millis(5);
/// The pause between passive checkpoints while the keeper catches up with a long log.
const CATCH_UP_PAUSE: Duration = Duration::from_millis(1);
/// The longest the writer gives way to a restart before writing anyway.
const MAX_GIVE_WAY: Duration = Duration::from_millis(50);

/// Whether a plain connection checks foreign keys.
#[derive(Clone, Copy)]
pub(super) enum ForeignKeys {
    /// As the sqlx pools do.
    Checked,
    /// Only for the state-change writer, whose statements prove the parent row themselves
    /// (`sqlite_writer.rs`).
    Unchecked,
}

/// Settings of the plain (rusqlite) connections, the same as the sqlx pools' (`sqlite.rs`)
/// but for the foreign keys the caller chooses.
pub(super) fn open_connection(
    path: &Path,
    autocheckpoint_pages: u32,
    foreign_keys: ForeignKeys,
) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_handler(Some(wait_for_lock))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    let foreign_keys = match foreign_keys {
        ForeignKeys::Checked => "ON",
        ForeignKeys::Unchecked => "OFF",
    };
    connection.pragma_update(None, "foreign_keys", foreign_keys)?;
    connection.pragma_update(None, "wal_autocheckpoint", autocheckpoint_pages)?;
    Ok(connection)
}

/// How our plain connections wait for a lock another connection holds: up to about five
/// seconds, like the sqlx pools' busy timeout, but in steps of 50 µs at first. SQLite's own
/// busy handler sleeps 1, 2, 5, 10, 15... ms, so a lock held for 2 ms would cost 8.
fn wait_for_lock(attempt: i32) -> bool {
    const QUICK_ATTEMPTS: i32 = 200; // 10 ms in 50 µs steps
    const SLOW_ATTEMPTS: i32 = 5_000; // then 1 ms steps
    if attempt < QUICK_ATTEMPTS {
        std::thread::sleep(Duration::from_micros(50));
        true
    } else if attempt < QUICK_ATTEMPTS + SLOW_ATTEMPTS {
        std::thread::sleep(Duration::from_millis(1));
        true
    } else {
        false
    }
}

/// Set while the keeper waits for the write lock to close the log; the group-commit writer
/// checks it before each batch.
#[derive(Clone, Default)]
pub(super) struct WalTurn(Arc<AtomicBool>);

impl WalTurn {
    /// Waits (at most [`MAX_GIVE_WAY`]) while the keeper is closing the log.
    pub fn give_way(&self) {
        if !self.0.load(Ordering::Acquire) {
            return;
        }
        let give_up_at = Instant::now() + MAX_GIVE_WAY;
        while self.0.load(Ordering::Acquire) && Instant::now() < give_up_at {
            std::thread::sleep(Duration::from_micros(50));
        }
    }

    fn set(&self, closing: bool) {
        self.0.store(closing, Ordering::Release);
    }
}

/// The keeper thread; it stops when this is dropped.
pub(super) struct WalKeeper {
    _stop: mpsc::Sender<()>,
}

impl WalKeeper {
    /// Opens the keeper's own connection to the database file and starts its thread.
    pub fn start(path: &Path, turn: WalTurn) -> Result<WalKeeper, String> {
        let connection = open_connection(path, 0, ForeignKeys::Checked)
            .map_err(|error| format!("could not open the WAL keeper: {error}"))?;
        let database = File::open(path)
            .map_err(|error| format!("could not open the database file: {error}"))?;
        let keeper = Keeper::new(database, Limits::DEFAULT);
        let (stop, stopped) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-wal".into())
            .spawn(move || run(&connection, keeper, &turn, &stopped))
            .map_err(|error| format!("could not start the WAL keeper: {error}"))?;
        Ok(WalKeeper { _stop: stop })
    }
}

fn run(connection: &Connection, mut keeper: Keeper, turn: &WalTurn, stopped: &mpsc::Receiver<()>) {
    let mut pause = LOOK_EVERY;
    loop {
        match stopped.recv_timeout(pause) {
            Err(RecvTimeoutError::Timeout) => {}
            // The store was dropped.
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        pause = match keeper.step(connection, turn) {
            Ok(next) => {
                keeper.succeeded();
                match next {
                    Next::Rest => LOOK_EVERY,
                    Next::Follow => FOLLOW_EVERY,
                    Next::CatchUp => CATCH_UP_PAUSE,
                }
            }
            Err(error) => {
                keeper.failed(&error);
                LOOK_EVERY
            }
        };
    }
}

/// When the keeper looks at the log next.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Nothing was written since the last look: in [`LOOK_EVERY`].
    Rest,
    /// The log is being written to: in [`FOLLOW_EVERY`].
    Follow,
    /// The log is long and not closed yet: in [`CATCH_UP_PAUSE`].
    CatchUp,
}

/// The lengths of the log, in frames, at which the keeper closes it (smaller in tests).
#[derive(Clone, Copy)]
struct Limits {
    restart_at: i64,
    tail: i64,
    close_anyway_at: i64,
}

impl Limits {
    const DEFAULT: Limits = Limits {
        restart_at: RESTART_AT_FRAMES,
        tail: TAIL_FRAMES,
        close_anyway_at: CLOSE_ANYWAY_AT_FRAMES,
    };
}

/// What the keeper remembers between two looks at the log.
struct Keeper {
    /// The database file, to flush its pages outside any lock (see [`Keeper::step`]).
    database: File,
    limits: Limits,
    /// The length of the log at the previous checkpoint: the difference is what has been
    /// committed since, about what the next checkpoint will have to copy.
    last_log: i64,
    /// The length of the log when it was last closed: until a writer starts it again, there
    /// is nothing to do.
    closed_at: Option<i64>,
    /// Whether the last step failed (a failure is logged once, not every 20 ms).
    failing: bool,
}

impl Keeper {
    /// A keeper that has not looked at the log yet.
    fn new(database: File, limits: Limits) -> Keeper {
        Keeper {
            database,
            limits,
            last_log: 0,
            closed_at: None,
            failing: false,
        }
    }

    /// One look at the log: a passive checkpoint, then, if the log is long, either more
    /// catching up or the restart.
    ///
    /// SQLite fsyncs the database only at a checkpoint that reaches the end of the log,
    /// which under load is the restart, with the write lock held: on a disk that does a few
    /// tens of thousands of random writes a second, the pages dirtied since the previous
    /// restart would take tens of milliseconds. So the keeper flushes them itself first,
    /// without any lock, and restarts only once the log grows by at most [`TAIL_FRAMES`]
    /// between two checkpoints: the restart then copies and flushes about that many pages.
    /// A log that has reached [`CLOSE_ANYWAY_AT_FRAMES`] is closed without waiting for such a
    /// quiet moment, which a sustained stream of webhooks never leaves.
    fn step(&mut self, connection: &Connection, turn: &WalTurn) -> Result<Next, String> {
        let passive = checkpoint(connection, Mode::Passive).map_err(|e| e.to_string())?;
        let grown = if passive.log >= self.last_log {
            passive.log - self.last_log
        } else {
            passive.log // the log was started again meanwhile
        };
        self.last_log = passive.log;
        let limits = self.limits;
        if passive.log < limits.restart_at || self.closed_at == Some(passive.log) {
            return Ok(if grown > 0 { Next::Follow } else { Next::Rest });
        }
        self.closed_at = None;
        if passive.busy || passive.copied < passive.log {
            // Another checkpoint ran, or a reader still needed older pages: try again soon.
            return Ok(Next::CatchUp);
        }
        self.database
            .sync_data()
            .map_err(|e| format!("could not flush the database file: {e}"))?;
        if grown > limits.tail && passive.log < limits.close_anyway_at {
            return Ok(Next::CatchUp);
        }
        turn.set(true);
        let restart = checkpoint(connection, Mode::Restart);
        turn.set(false);
        let restart = restart.map_err(|e| e.to_string())?;
        self.last_log = restart.log;
        if restart.busy || restart.copied < restart.log {
            return Ok(Next::CatchUp);
        }
        self.closed_at = Some(restart.log);
        // The log was long enough to close: it is being written to.
        Ok(Next::Follow)
    }

    fn failed(&mut self, error: &str) {
        if !self.failing {
            tracing::warn!(error, "a WAL checkpoint failed; retrying");
        }
        self.failing = true;
    }

    fn succeeded(&mut self) {
        self.failing = false;
    }
}

/// What `PRAGMA wal_checkpoint` reports.
struct Checkpoint {
    /// The checkpoint could not take a lock it needed (another checkpoint, or the write lock).
    busy: bool,
    /// Frames in the log.
    log: i64,
    /// Frames of the log now copied into the database.
    copied: i64,
}

#[derive(Clone, Copy)]
enum Mode {
    /// Copies what it can; never waits, never blocks anyone.
    Passive,
    /// Waits for the write lock and for readers of the log, copies everything, and makes the
    /// next commit start the log from its beginning. Not `TRUNCATE`, which also empties the
    /// file: the log would then be allocated again, block by block, as it grows (a journal
    /// transaction for each extension, and with `discard` mounts a trim of every freed
    /// block), and commits would wait on the file system; overwritten in place, the 64 MiB
    /// log costs nothing but its disk space.
    Restart,
}

fn checkpoint(connection: &Connection, mode: Mode) -> rusqlite::Result<Checkpoint> {
    let sql = match mode {
        Mode::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
        Mode::Restart => "PRAGMA wal_checkpoint(RESTART)",
    };
    connection.query_row(sql, [], |row| {
        Ok(Checkpoint {
            busy: row.get::<_, i64>(0)? != 0,
            log: row.get(1)?,
            copied: row.get(2)?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The keeper's rules at a small scale: tens of frames instead of tens of thousands.
    const SMALL: Limits = Limits {
        restart_at: 32,
        tail: 4,
        close_anyway_at: 64,
    };

    /// A database file with a writer connection and a keeper of its own, as the store opens
    /// them, on [`SMALL`] limits; its files are removed when it is dropped.
    struct Scratch {
        path: PathBuf,
        writer: Connection,
        keeper_connection: Connection,
        keeper: Keeper,
        turn: WalTurn,
    }

    impl Scratch {
        fn new() -> Scratch {
            let path = std::env::temp_dir().join(format!(
                "callconfirm-wal-{}.db",
                uuid::Uuid::new_v4().simple()
            ));
            // The writer never checkpoints by itself here: only the keeper moves the log on.
            let writer = open_connection(&path, 1_000_000, ForeignKeys::Checked).unwrap();
            writer
                .execute_batch("CREATE TABLE pages (body BLOB NOT NULL)")
                .unwrap();
            let keeper_connection = open_connection(&path, 0, ForeignKeys::Checked).unwrap();
            let keeper = Keeper::new(File::open(&path).unwrap(), SMALL);
            Scratch {
                path,
                writer,
                keeper_connection,
                keeper,
                turn: WalTurn::default(),
            }
        }

        /// Commits `pages` rows of a page each, in one transaction: that many frames and a
        /// few more (the tree's inner pages).
        fn commit_pages(&self, pages: usize) {
            let transaction = self.writer.unchecked_transaction().unwrap();
            for _ in 0..pages {
                transaction
                    .execute("INSERT INTO pages (body) VALUES (zeroblob(4000))", [])
                    .unwrap();
            }
            transaction.commit().unwrap();
        }

        fn step(&mut self) -> Next {
            self.keeper
                .step(&self.keeper_connection, &self.turn)
                .unwrap()
        }

        /// The frames in the log now, as a passive checkpoint reports them.
        fn log_frames(&self) -> i64 {
            checkpoint(&self.writer, Mode::Passive).unwrap().log
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let mut file = self.path.clone().into_os_string();
                file.push(suffix);
                let _ = std::fs::remove_file(file);
            }
        }
    }

    // After a checkpoint that has copied everything, SQLite itself starts the log again at
    // the next commit, so the tests read whether the keeper closed it (`closed_at`, set by
    // its RESTART checkpoint only): under a steady stream of commits, that is the only way the
    // log ever starts again.

    #[test]
    fn a_short_log_is_copied_and_left_to_grow() {
        let mut scratch = Scratch::new();
        scratch.commit_pages(10);
        let before = scratch.log_frames();
        assert!((10..SMALL.restart_at).contains(&before), "{before} frames");

        // Copied, and looked at again soon, since it is being written to...
        assert_eq!(scratch.step(), Next::Follow);
        assert_eq!(scratch.keeper.closed_at, None);
        // ... until nothing new comes.
        assert_eq!(scratch.step(), Next::Rest);
        assert_eq!(scratch.keeper.closed_at, None);
    }

    #[test]
    fn a_long_log_is_closed_once_the_keeper_has_caught_up_with_it() {
        let mut scratch = Scratch::new();
        scratch.commit_pages(40);
        let before = scratch.log_frames();
        assert!(
            (SMALL.restart_at..SMALL.close_anyway_at).contains(&before),
            "{before} frames"
        );

        // The first look finds 40 frames more than at its previous one: too many to close the
        // log with the write lock held...
        assert_eq!(scratch.step(), Next::CatchUp);
        assert_eq!(scratch.keeper.closed_at, None);
        // ... the next one finds nothing new, and closes it.
        assert_eq!(scratch.step(), Next::Follow);
        assert_eq!(scratch.keeper.closed_at, Some(before));
        scratch.commit_pages(1);
        let after = scratch.log_frames();
        assert!(after <= 3, "the log goes on at frame {after}");
    }

    #[test]
    fn a_log_past_the_close_anyway_length_is_closed_even_while_it_grows_fast() {
        let mut scratch = Scratch::new();
        scratch.commit_pages(80);
        let before = scratch.log_frames();
        assert!(before >= SMALL.close_anyway_at, "{before} frames");

        // 80 frames since the previous look, far more than the tail: closed all the same.
        assert_eq!(scratch.step(), Next::Follow);
        assert_eq!(scratch.keeper.closed_at, Some(before));
        scratch.commit_pages(1);
        let after = scratch.log_frames();
        assert!(after <= 3, "the log goes on at frame {after}");
    }
}
