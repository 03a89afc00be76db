use std::path::PathBuf;

use super::*;
use crate::storage::write_all_at;

fn p(s: &str) -> PathBuf {
    PathBuf::from(s)
}

/// A file `/d/f` holding "synced" durably (file and directory) and " unsynced" written after.
fn setup() -> (SimStorage, Box<dyn StorageFile>) {
    let fs = SimStorage::new(1);
    fs.create_dir_all(&p("/d")).unwrap();
    fs.sync_dir(&p("/")).unwrap();
    let mut f = fs.create_new(&p("/d/f")).unwrap();
    write_all_at(f.as_mut(), 0, &[b"synced"]).unwrap();
    f.sync_data().unwrap();
    fs.sync_dir(&p("/d")).unwrap();
    write_all_at(f.as_mut(), 6, &[b" unsynced"]).unwrap();
    (fs, f)
}

#[test]
fn durable_only_keeps_synced_bytes() {
    let (fs, _f) = setup();
    assert_eq!(fs.contents(&p("/d/f")).unwrap(), b"synced unsynced");
    let img = fs.crash_image(CrashMode::DurableOnly);
    assert_eq!(img.contents(&p("/d/f")).unwrap(), b"synced");
    assert_eq!(&*img.read(&p("/d/f"), None).unwrap(), b"synced");
}

#[test]
fn process_crash_keeps_everything_written() {
    let (fs, _f) = setup();
    let img = fs.crash_image(CrashMode::ProcessCrash);
    assert_eq!(img.contents(&p("/d/f")).unwrap(), b"synced unsynced");
}

#[test]
fn unsynced_directory_entries_are_lost() {
    let (fs, _f) = setup();
    let mut g = fs.create_new(&p("/d/g")).unwrap();
    write_all_at(g.as_mut(), 0, &[b"data"]).unwrap();
    g.sync_data().unwrap(); // bytes durable, but the name is not
    fs.remove_file(&p("/d/f")).unwrap();
    let img = fs.crash_image(CrashMode::DurableOnly);
    assert!(img.contents(&p("/d/g")).is_none());
    assert!(img.contents(&p("/d/f")).is_some(), "unlink not synced");
    fs.sync_dir(&p("/d")).unwrap();
    let img = fs.crash_image(CrashMode::DurableOnly);
    assert_eq!(img.contents(&p("/d/g")).unwrap(), b"data");
    assert!(img.contents(&p("/d/f")).is_none());
}

#[test]
fn files_in_an_unsynced_directory_are_lost() {
    let fs = SimStorage::new(1);
    fs.create_dir_all(&p("/a/b")).unwrap();
    let mut f = fs.create_new(&p("/a/b/f")).unwrap();
    f.sync_data().unwrap();
    fs.sync_dir(&p("/a/b")).unwrap();
    let img = fs.crash_image(CrashMode::DurableOnly);
    assert!(img.list_dir(&p("/a/b")).is_err());
    assert!(img.contents(&p("/a/b/f")).is_none());
}

#[test]
fn random_prefix_is_a_prefix_of_the_writes() {
    let fs = SimStorage::new(1);
    fs.create_dir_all(&p("/d")).unwrap();
    let mut f = fs.create_new(&p("/d/f")).unwrap();
    fs.sync_dir(&p("/d")).unwrap();
    fs.sync_dir(&p("/")).unwrap();
    for (i, chunk) in [b"aaaa", b"bbbb", b"cccc", b"dddd"].iter().enumerate() {
        write_all_at(f.as_mut(), i as u64 * 4, &[*chunk]).unwrap();
    }
    let full = b"aaaabbbbccccdddd";
    let mut lens = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let img = fs.crash_image(CrashMode::RandomPrefix { seed });
        let got = img.contents(&p("/d/f")).unwrap();
        assert_eq!(&full[..got.len()], &got[..], "seed {seed}");
        lens.insert(got.len());
    }
    assert!(lens.len() > 5, "prefix lengths should vary: {lens:?}");
}

#[test]
fn torn_last_write_cuts_only_the_last_write() {
    let (fs, _f) = setup();
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..100 {
        let got = fs
            .crash_image(CrashMode::TornLastWrite { seed })
            .contents(&p("/d/f"))
            .unwrap();
        assert!(got.len() >= 6 && got.len() < 15, "{got:?}");
        assert_eq!(&b"synced unsynced"[..got.len()], &got[..]);
        seen.insert(got.len());
    }
    assert!(seen.len() > 3);
}

#[test]
fn bit_flip_flips_one_bit() {
    let (fs, _f) = setup();
    let img = fs.crash_image(CrashMode::BitFlip {
        path: p("/d/f"),
        offset: 1,
        bit: 3, // 'y' (0x79) ^ 0x08 = 'q'
    });
    assert_eq!(img.contents(&p("/d/f")).unwrap(), b"sqnced unsynced");
    let img = fs.crash_image(CrashMode::BitFlip {
        path: p("/d/f"),
        offset: 99,
        bit: 0,
    });
    assert_eq!(img.contents(&p("/d/f")).unwrap(), b"synced unsynced");
}

#[test]
fn write_budget_gives_a_short_write_then_errors() {
    let (fs, mut f) = setup();
    fs.fail_writes_after(3, SimFault::NoSpace);
    let n = f.write_vectored_at(0, &[IoSlice::new(b"hello")]).unwrap();
    assert_eq!(n, 3);
    let e = f.write_vectored_at(3, &[IoSlice::new(b"lo")]).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::StorageFull);
    assert_eq!(fs.stats().failed_writes, 1);
    fs.clear_faults();
    write_all_at(f.as_mut(), 3, &[b"lo"]).unwrap();
    assert_eq!(&fs.contents(&p("/d/f")).unwrap()[..5], b"hello");
}

#[test]
fn failed_sync_makes_nothing_durable() {
    let (fs, mut f) = setup();
    fs.fail_syncs(Some(SimFault::Eio));
    assert!(f.sync_data().is_err());
    assert!(fs.sync_dir(&p("/d")).is_err());
    assert_eq!(fs.stats().failed_syncs, 2);
    let img = fs.crash_image(CrashMode::DurableOnly);
    assert_eq!(img.contents(&p("/d/f")).unwrap(), b"synced");
    fs.fail_syncs(None);
    f.sync_data().unwrap();
    let img = fs.crash_image(CrashMode::DurableOnly);
    assert_eq!(img.contents(&p("/d/f")).unwrap(), b"synced unsynced");
}

#[test]
fn short_writes_still_complete_with_write_all() {
    let (fs, mut f) = setup();
    fs.set_short_writes(true);
    let before = fs.stats().writes;
    let data: Vec<u8> = (0..=255).collect();
    write_all_at(f.as_mut(), 0, &[&data, &data]).unwrap();
    assert!(
        fs.stats().writes - before > 1,
        "expected several short writes"
    );
    let got = fs.contents(&p("/d/f")).unwrap();
    assert_eq!(&got[..256], &data[..]);
    assert_eq!(&got[256..512], &data[..]);
}

#[test]
fn namespace_errors() {
    let fs = SimStorage::new(0);
    assert!(fs.create_new(&p("/nodir/f")).is_err());
    assert!(fs.open_rw(&p("/f")).is_err());
    assert!(fs.remove_file(&p("/f")).is_err());
    assert!(fs.remove_dir_all(&p("/d")).is_err());
    fs.create_dir_all(&p("/d")).unwrap();
    fs.create_new(&p("/d/f")).unwrap();
    assert_eq!(
        fs.create_new(&p("/d/f")).unwrap_err().kind(),
        io::ErrorKind::AlreadyExists
    );
    assert_eq!(fs.list_dir(&p("/d")).unwrap(), vec!["f".to_string()]);
    assert!(fs.read(&p("/d/f"), Some(1)).is_err());
    fs.remove_dir_all(&p("/d")).unwrap();
    assert!(fs.list_dir(&p("/d")).is_err());
    assert!(fs.contents(&p("/d/f")).is_none());
}

#[test]
fn set_len_and_put_file() {
    let (fs, mut f) = setup();
    f.set_len(3).unwrap();
    f.set_len(5).unwrap();
    assert_eq!(fs.contents(&p("/d/f")).unwrap(), b"syn\0\0");
    assert_eq!(f.file_len().unwrap(), 5);
    fs.put_file(&p("/e/g"), b"xyz").unwrap();
    let img = fs.crash_image(CrashMode::DurableOnly);
    assert_eq!(img.contents(&p("/e/g")).unwrap(), b"xyz");
}
