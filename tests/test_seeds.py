"""The foundation end to end on both databases: seeds in, clusters out, through the real CLI."""

from __future__ import annotations

import json

from click.testing import CliRunner

from archive.cli import cli
from tests.conftest import SEEDS

GIHOT = SEEDS / "000_0cda88c30c92c3f2.txt"
OTHER = SEEDS / "001_60d11f0826a252e5.txt"


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_seeds_share_an_event_in_separate_copy_clusters(archive):
    summary = json.loads(run("ingest", str(SEEDS), "--json"))
    assert (summary["new"], summary["rejected"], summary["status"]) == (2, 0, "ok")

    events = json.loads(run("clusters", "--kind", "event", "--json"))
    assert len(events) == 1
    titles = {a["title"] for a in events[0]["articles"]}
    assert titles == {
        "莞港产业合作交流会达成签约项目33宗,投资贸易合作总额达184.7亿元",
        "东莞市副市长刘光滨:东莞将对标广州和深圳,为香港企业提供“贴心服务”",
    }
    for key in ("id", "kind", "size", "articles"):
        assert key in events[0]
    assert {"id", "title", "source", "url"} <= set(events[0]["articles"][0])

    copies = json.loads(run("clusters", "--kind", "copy", "--json"))
    assert sorted(c["size"] for c in copies) == [1, 1]
    assert all(c["articles"][0]["role"] == "original" for c in copies)


def test_clean_text_and_raw_bytes(archive):
    run("ingest", str(SEEDS))
    gihot = archive.find_article(GIHOT.resolve().as_uri())
    other = archive.find_article(OTHER.resolve().as_uri())
    a = json.loads(run("article", str(gihot), "--json"))
    assert "5V5即热新闻" not in a["clean_text"] and "gihot.com" not in a["clean_text"]
    assert "为你推荐" not in a["clean_text"] and "美国国家运输安全委员会" not in a["clean_text"]
    assert "点击右上角" not in a["clean_text"] and "朋友圈" not in a["clean_text"]
    assert "本文链接" not in a["clean_text"] and "上一篇" not in a["clean_text"]
    assert a["clean_text"].startswith("3月17日,主题为“莞港携手 共建湾区”")
    assert a["byline"] == "南方财经全媒体记者郑康喜 东莞报道"
    assert a["canonical_url"] == "http://www.gihot.com/news-1-43088-0.html"
    assert a["published_at"] is None  # "10个月前" is not a date
    assert any(r["rule"] == "watermark" for r in a["removed"])

    b = json.loads(run("article", str(other), "--json"))
    assert "21财经APP" not in b["clean_text"]
    assert "晓数点" not in b["clean_text"] and "时间:2025-06-15" not in b["clean_text"]
    assert b["clean_text"].rstrip().endswith("将工程建设周期压缩25%。")
    assert b["byline"] == "21世纪经济报道记者 孙迟悦 香港报道"

    assert archive.raw_bytes(gihot) == GIHOT.read_bytes()
    assert archive.raw_bytes(other) == OTHER.read_bytes()


def test_ingest_is_idempotent(archive):
    run("ingest", str(SEEDS))
    before = archive.counts()
    again = json.loads(run("ingest", str(SEEDS), "--json"))
    assert (again["new"], again["duplicates"]) == (0, 2)
    assert archive.counts() == before


def test_cluster_and_article_views(archive):
    run("ingest", str(SEEDS))
    event = json.loads(run("clusters", "--kind", "event", "--json"))[0]
    shown = json.loads(run("cluster", str(event["id"]), "--json"))
    assert shown["size"] == 2 and {m["role"] for m in shown["articles"]} == {"member"}
    table = run("clusters", "--kind", "event")
    assert "莞港产业合作交流会" in table or "莞港产业" in table


def test_unknown_ids_are_one_clear_line(archive):
    result = CliRunner().invoke(cli, ["cluster", "999"])
    assert result.exit_code == 2
    assert "no cluster with id 999" in result.output
