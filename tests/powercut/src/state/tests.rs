//! The durability rules on the model itself (no kernel involved).
use super::*;

fn name(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn new_file(st: &mut State, parent: u64, n: &str) -> u64 {
    let a = st
        .create(parent, name(n), 0o644, libc::O_CREAT | libc::O_RDWR, 0, 0)
        .unwrap();
    a.ino.0
}

fn content(st: &State, path: &str) -> Option<Vec<u8>> {
    st.snapshot().get(path).cloned()
}

#[test]
fn unsynced_file_data_and_entries_are_lost() {
    let mut st = State::new();
    let f = new_file(&mut st, ROOT, "a");
    st.write(f, 0, b"hello").unwrap();
    st.fsync(f).unwrap(); // data durable, entry not
    let r = st.cut(1, false);
    assert_eq!(r.inodes_lost, 1);
    assert_eq!(r.lost_paths, ["/a"]);
    assert_eq!(content(&st, "/a"), None);
}

#[test]
fn fsync_of_file_and_directory_keeps_both() {
    let mut st = State::new();
    let f = new_file(&mut st, ROOT, "a");
    st.write(f, 0, b"hello").unwrap();
    st.fsync(f).unwrap();
    st.fsyncdir(ROOT).unwrap();
    st.write(f, 5, b" world").unwrap(); // not synced
    let r = st.cut(1, false);
    assert_eq!(r.files_reverted, 1);
    assert_eq!(r.reverted_paths, ["/a"]);
    assert_eq!(r.bytes_lost, 6);
    assert_eq!(content(&st, "/a").unwrap(), b"hello");
}

#[test]
fn entry_without_data_sync_is_an_empty_file() {
    let mut st = State::new();
    let f = new_file(&mut st, ROOT, "a");
    st.fsyncdir(ROOT).unwrap();
    st.write(f, 0, b"x").unwrap();
    st.cut(1, false);
    assert_eq!(content(&st, "/a").unwrap(), b"");
}

#[test]
fn rename_needs_the_directory_sync() {
    let mut st = State::new();
    let f = new_file(&mut st, ROOT, "tmp");
    st.write(f, 0, b"new").unwrap();
    st.fsync(f).unwrap();
    let old = new_file(&mut st, ROOT, "final");
    st.write(old, 0, b"old").unwrap();
    st.fsync(old).unwrap();
    st.fsyncdir(ROOT).unwrap();
    st.rename(ROOT, name("tmp"), ROOT, name("final"), false)
        .unwrap();
    assert_eq!(content(&st, "/final").unwrap(), b"new");
    // Cut before the directory fsync: the old name and content are back.
    st.cut(1, false);
    assert_eq!(content(&st, "/final").unwrap(), b"old");
    assert_eq!(content(&st, "/tmp").unwrap(), b"new");
    st.rename(ROOT, name("tmp"), ROOT, name("final"), false)
        .unwrap();
    st.fsyncdir(ROOT).unwrap();
    st.cut(2, false);
    assert_eq!(content(&st, "/final").unwrap(), b"new");
    assert_eq!(content(&st, "/tmp"), None);
}

#[test]
fn unlink_and_rmdir_come_back_without_a_sync() {
    let mut st = State::new();
    let d = st.mkdir(ROOT, name("d"), 0o755, 0, 0).unwrap().ino.0;
    let f = new_file(&mut st, d, "f");
    st.write(f, 0, b"data").unwrap();
    st.fsync(f).unwrap();
    st.fsyncdir(d).unwrap();
    st.fsyncdir(ROOT).unwrap();
    st.unlink(d, name("f")).unwrap();
    st.rmdir(ROOT, name("d")).unwrap();
    assert_eq!(content(&st, "/d/f"), None);
    st.cut(1, false);
    assert_eq!(content(&st, "/d/f").unwrap(), b"data");
    st.unlink(d, name("f")).unwrap();
    st.fsyncdir(d).unwrap();
    st.cut(1, false);
    assert_eq!(content(&st, "/d/f"), None);
    assert!(st.snapshot().contains_key("/d/"));
}

#[test]
fn a_new_directory_needs_its_parent_synced() {
    let mut st = State::new();
    let d = st.mkdir(ROOT, name("d"), 0o755, 0, 0).unwrap().ino.0;
    let f = new_file(&mut st, d, "f");
    st.write(f, 0, b"data").unwrap();
    st.fsync(f).unwrap();
    st.fsyncdir(d).unwrap(); // the file's entry, but not d's own
    st.cut(1, false);
    assert!(st.snapshot().is_empty());
}

#[test]
fn truncation_and_sparse_extension() {
    let mut st = State::new();
    let f = new_file(&mut st, ROOT, "a");
    st.fsyncdir(ROOT).unwrap();
    st.write(f, 0, &[7u8; 10_000]).unwrap();
    st.set_len(f, 5000).unwrap();
    st.set_len(f, 64 << 20).unwrap(); // like a preallocated journal
    st.fsync(f).unwrap();
    let data = st.read(f, 4990, 20).unwrap();
    assert_eq!(&data[..10], &[7u8; 10]);
    assert_eq!(&data[10..], &[0u8; 10]);
    assert!(
        st.usage().1 <= 3 * PAGE as u64,
        "extension stores no zeros (2 pages + the root)"
    );
    st.set_len(f, 3).unwrap();
    st.cut(1, false);
    assert_eq!(st.attr(f).unwrap().size, 64 << 20);
    assert_eq!(st.read(f, 0, 4).unwrap(), vec![7u8; 4]);
}

#[test]
fn torn_cuts_keep_a_prefix_of_the_writes() {
    // Writes of 100 bytes each; whatever survives is the durable part plus a prefix.
    for seed in 0..200 {
        let mut st = State::new();
        let f = new_file(&mut st, ROOT, "log");
        st.fsyncdir(ROOT).unwrap();
        st.write(f, 0, &[1u8; 100]).unwrap();
        st.fsync(f).unwrap();
        for i in 2..6u8 {
            st.write(f, (i as u64 - 1) * 100, &[i; 100]).unwrap();
        }
        st.cut(seed, true);
        let got = content(&st, "/log").unwrap();
        assert!(
            got.len() >= 100 && got.len() <= 500,
            "seed {seed}: {}",
            got.len()
        );
        for (i, b) in got.iter().enumerate() {
            assert_eq!(*b as usize, i / 100 + 1, "seed {seed}: byte {i}");
        }
        // The torn image is now durable: a second cut keeps it.
        st.cut(seed + 1, true);
        assert_eq!(content(&st, "/log").unwrap(), got);
    }
}

#[test]
fn torn_cuts_are_deterministic_and_vary_with_the_seed() {
    let run = |seed| {
        let mut st = State::new();
        let f = new_file(&mut st, ROOT, "log");
        st.fsyncdir(ROOT).unwrap();
        for i in 0..20u8 {
            st.write(f, i as u64 * 10, &[i; 10]).unwrap();
        }
        st.cut(seed, true);
        content(&st, "/log").unwrap().len()
    };
    assert_eq!(run(7), run(7));
    let lens: BTreeSet<usize> = (0..50).map(run).collect();
    assert!(lens.len() > 5, "{lens:?}");
}

#[test]
fn unreachable_nodes_are_freed_and_links_counted() {
    let mut st = State::new();
    let f = new_file(&mut st, ROOT, "a");
    st.link(f, ROOT, name("b")).unwrap();
    st.fsyncdir(ROOT).unwrap();
    st.unlink(ROOT, name("a")).unwrap();
    st.release(f);
    assert_eq!(st.attr(f).unwrap().nlink, 1);
    st.unlink(ROOT, name("b")).unwrap();
    // Durably still named: kept until a sync of the directory or a cut decides.
    assert!(st.attr(f).is_ok());
    st.fsyncdir(ROOT).unwrap();
    assert!(st.attr(f).is_err(), "freed once nothing can reach it");
    assert_eq!(st.usage().0, 1);
}

#[test]
fn rename_rules() {
    let mut st = State::new();
    let d = st.mkdir(ROOT, name("d"), 0o755, 0, 0).unwrap().ino.0;
    let e = st.mkdir(d, name("e"), 0o755, 0, 0).unwrap().ino.0;
    new_file(&mut st, ROOT, "f");
    assert_eq!(
        st.rename(ROOT, name("d"), e, name("x"), false),
        Err(Errno::EINVAL)
    );
    assert_eq!(
        st.rename(ROOT, name("f"), ROOT, name("d"), false),
        Err(Errno::EISDIR)
    );
    assert_eq!(
        st.rename(ROOT, name("d"), ROOT, name("f"), false),
        Err(Errno::ENOTDIR)
    );
    new_file(&mut st, ROOT, "g");
    assert_eq!(
        st.rename(ROOT, name("f"), ROOT, name("g"), true),
        Err(Errno::EEXIST)
    );
    st.rename(ROOT, name("f"), ROOT, name("g"), false).unwrap();
    let e2 = st.mkdir(ROOT, name("e2"), 0o755, 0, 0).unwrap().ino.0;
    new_file(&mut st, e2, "z");
    assert_eq!(
        st.rename(d, name("e"), ROOT, name("e2"), false),
        Err(Errno::ENOTEMPTY)
    );
    st.unlink(e2, name("z")).unwrap();
    st.rename(d, name("e"), ROOT, name("e2"), false).unwrap();
    assert_eq!(st.lookup(ROOT, name("e2")).unwrap().ino.0, e);
    assert_eq!(st.rmdir(ROOT, name("d")), Ok(()));
}

#[test]
fn readdir_listing_survives_removals() {
    let mut st = State::new();
    for i in 0..10 {
        new_file(&mut st, ROOT, &format!("f{i}"));
    }
    let fh = st.opendir(ROOT).unwrap();
    let first: Vec<OsString> = st.readdir(ROOT, fh, 0).unwrap()[..6]
        .iter()
        .map(|e| e.2.clone())
        .collect();
    for n in &first[2..] {
        st.unlink(ROOT, n).unwrap();
    }
    let rest = st.readdir(ROOT, fh, 6).unwrap().len();
    assert_eq!(rest, 12 - 6, "entries after the offset are still listed");
}
