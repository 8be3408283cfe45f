import pandas as pd
import pyarrow.parquet as pq
import pytest

from leanops_assets.storage import Lake, LakePathError


def _frame(n=100):
    return pd.DataFrame({"a": range(n), "b": [f"x{i}" for i in range(n)]})


def test_same_frame_gives_byte_identical_file_and_hash(tmp_path):
    lake = Lake(tmp_path)
    first = lake.write_partition("raw", "flights", "2013-01-05", _frame())
    before = first.path.read_bytes()
    second = lake.write_partition("raw", "flights", "2013-01-05", _frame())
    assert second.path.read_bytes() == before
    assert second.content_hash == first.content_hash
    assert (
        lake.write_partition("raw", "flights", "2013-01-05", _frame(99)).content_hash
        != first.content_hash
    )


def test_a_failed_write_leaves_the_previous_partition_intact(tmp_path, monkeypatch):
    lake = Lake(tmp_path)
    good = lake.write_partition("raw", "flights", "2013-01-05", _frame())
    good_bytes = good.path.read_bytes()

    def explode(table, handle, **kwargs):
        handle.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", explode)
    with pytest.raises(OSError, match="disk full"):
        lake.write_partition("raw", "flights", "2013-01-05", _frame(5))
    assert good.path.read_bytes() == good_bytes
    assert [p.name for p in good.path.parent.iterdir()] == ["part.parquet"]


def test_rewriting_one_day_touches_only_that_day(tmp_path):
    lake = Lake(tmp_path)
    other = lake.write_partition("raw", "flights", "2013-01-04", _frame())
    mtime = other.path.stat().st_mtime_ns
    lake.write_partition("raw", "flights", "2013-01-05", _frame())
    lake.write_partition("raw", "flights", "2013-01-05", _frame(3))
    assert other.path.stat().st_mtime_ns == mtime
    assert lake.materialized_days("raw", "flights") == ["2013-01-04", "2013-01-05"]
    assert len(lake.read_partition("raw", "flights", "2013-01-05")) == 3


@pytest.mark.parametrize("day", ["../../etc", "2013-01-05/../../x", "2013-02-30", "", "20130105"])
def test_partition_keys_cannot_escape_the_lake(tmp_path, day):
    with pytest.raises(LakePathError):
        Lake(tmp_path).partition_path("raw", "flights", day)


@pytest.mark.parametrize("name", ["..", "../x", "Flights", "a/b", ""])
def test_dataset_names_cannot_escape_the_lake(tmp_path, name):
    with pytest.raises(LakePathError):
        Lake(tmp_path).partition_path("raw", name, "2013-01-05")


def test_reading_a_missing_partition_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="2013-01-05 of raw/flights.*materialize it first"):
        Lake(tmp_path).read_partition("raw", "flights", "2013-01-05")


def test_a_symlinked_table_folder_cannot_send_writes_outside_the_lake(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    lake = Lake(tmp_path / "lake")
    (tmp_path / "lake" / "training").mkdir(parents=True)
    (tmp_path / "lake" / "training" / "train").symlink_to(outside)
    with pytest.raises(LakePathError, match="escapes the lake root"):
        lake.write_table("training", "train", _frame())
    assert not list(outside.iterdir())


def test_a_writer_clears_temp_files_of_dead_writers_only(tmp_path):
    import os

    lake = Lake(tmp_path)
    folder = lake.partition_path("raw", "flights", "2013-01-05").parent
    folder.mkdir(parents=True)
    dead = folder / ".part.parquet.999999999.abc.tmp"  # no such process
    live = folder / f".part.parquet.{os.getppid()}.def.tmp"  # a running process's write
    dead.write_bytes(b"half")
    live.write_bytes(b"in progress")
    lake.write_partition("raw", "flights", "2013-01-05", _frame())
    assert not dead.exists()
    assert live.exists()


@pytest.mark.parametrize("root", ["s3://bucket/lake", "s3a://bucket/lake", "gs://bucket/lake"])
def test_an_object_store_root_is_refused_before_anything_is_written(tmp_path, monkeypatch, root):
    from leanops_assets.resources import LakeResource

    monkeypatch.chdir(tmp_path)
    with pytest.raises(LakePathError, match="shared POSIX path") as refused:
        Lake(root)
    assert root in str(refused.value)
    monkeypatch.setenv("LEANOPS_LAKE_ROOT", root)
    with pytest.raises(LakePathError, match="LEANOPS_LAKE_ROOT"):
        LakeResource().lake()
    assert list(tmp_path.iterdir()) == []  # no local folder named after the URL
