"""The datasets ``profilerec download`` knows: official URLs, sizes and published statistics.

Only official sources are listed (the McAuley Lab's UCSD servers, GroupLens, the MiniOneRec
authors' GitHub repository at a pinned commit), so a downloaded file is the file the papers
used. Where upstream publishes counts (or the pinned files fix them), ``expected`` holds
them and ``known_stats.check`` compares a prepared dataset with them: a local copy that
does not match the paper's statistics is the most common complaint in other toolkits'
trackers.

Sizes in ``size`` are what ``--help`` shows; exact byte counts and sha256 sums are given
only where the file is pinned (MiniOneRec); other files are checked for being complete
archives (gzip, zip) and their sums recorded in the manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from profilerec.errors import UserError

#: The McAuley Lab's public data root (UCSD); the same tree is served under MIRRORS.
UCSD = "https://mcauleylab.ucsd.edu/public_datasets"
#: Other official hosts of the same files, tried in order when the first cannot be reached.
MIRRORS: dict[str, tuple[str, ...]] = {UCSD: ("https://datarepo.eng.ucsd.edu/mcauley_group",)}
MINIONEREC_COMMIT = "81b4ba9811cfb152cf161f1c486fe516510d081e"
MINIONEREC_RAW = f"https://raw.githubusercontent.com/AkaliKong/MiniOneRec/{MINIONEREC_COMMIT}"


@dataclass(frozen=True)
class RemoteFile:
    """One file to fetch: where it goes under ``--out`` and where it comes from."""

    path: str
    url: str
    sha256: str | None = None
    size: int | None = None
    #: A 404 is noted, not an error (files upstream does not always distribute).
    optional: bool = False
    #: A zip archive unpacked beside itself after it is verified.
    unpack: bool = False


@dataclass(frozen=True)
class DatasetSpec:
    """A named dataset: its files per category and how to prepare them."""

    name: str
    title: str
    homepage: str
    licence: str
    size: str
    prepare_format: str
    files: Callable[[str], list[RemoteFile]]
    #: What ``prepare`` reads: a path under ``--out``, given the category.
    prepare_source: Callable[[str], str]
    categories: tuple[str, ...] = ()
    #: Published counts per category ("" when the dataset has none), compared after prepare.
    expected: dict[str, dict[str, int]] = field(default_factory=dict)

    def resolve(self, category: str | None) -> str:
        """The category to fetch: required where the dataset has several, else ""."""
        if not self.categories:
            if category:
                raise UserError(f"{self.name} has no categories; drop {category!r}")
            return ""
        if not category:
            raise UserError(f"{self.name} needs a CATEGORY; one of: {', '.join(self.categories)}")
        if category not in self.categories:
            raise UserError(
                f"unknown {self.name} category {category!r}; one of: {', '.join(self.categories)}"
            )
        return category


AMAZON2023_CATEGORIES = (
    "All_Beauty", "Amazon_Fashion", "Appliances", "Arts_Crafts_and_Sewing", "Automotive",
    "Baby_Products", "Beauty_and_Personal_Care", "Books", "CDs_and_Vinyl",
    "Cell_Phones_and_Accessories", "Clothing_Shoes_and_Jewelry", "Digital_Music", "Electronics",
    "Gift_Cards", "Grocery_and_Gourmet_Food", "Handmade_Products", "Health_and_Household",
    "Health_and_Personal_Care", "Home_and_Kitchen", "Industrial_and_Scientific", "Kindle_Store",
    "Magazine_Subscriptions", "Movies_and_TV", "Musical_Instruments", "Office_Products",
    "Patio_Lawn_and_Garden", "Pet_Supplies", "Software", "Sports_and_Outdoors",
    "Subscription_Boxes", "Tools_and_Home_Improvement", "Toys_and_Games", "Video_Games", "Unknown",
)  # fmt: skip

AMAZON2018_CATEGORIES = (
    "AMAZON_FASHION", "All_Beauty", "Appliances", "Arts_Crafts_and_Sewing", "Automotive",
    "Books", "CDs_and_Vinyl", "Cell_Phones_and_Accessories", "Clothing_Shoes_and_Jewelry",
    "Digital_Music", "Electronics", "Gift_Cards", "Grocery_and_Gourmet_Food",
    "Home_and_Kitchen", "Industrial_and_Scientific", "Kindle_Store", "Luxury_Beauty",
    "Magazine_Subscriptions", "Movies_and_TV", "Musical_Instruments", "Office_Products",
    "Patio_Lawn_and_Garden", "Pet_Supplies", "Prime_Pantry", "Software", "Sports_and_Outdoors",
    "Tools_and_Home_Improvement", "Toys_and_Games", "Video_Games",
)  # fmt: skip

GOOGLE_LOCAL_STATES = (
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut",
    "Delaware", "District_of_Columbia", "Florida", "Georgia", "Hawaii", "Idaho", "Illinois",
    "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine", "Maryland", "Massachusetts",
    "Michigan", "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska", "Nevada",
    "New_Hampshire", "New_Jersey", "New_Mexico", "New_York", "North_Carolina", "North_Dakota",
    "Ohio", "Oklahoma", "Oregon", "Pennsylvania", "Rhode_Island", "South_Carolina",
    "South_Dakota", "Tennessee", "Texas", "Utah", "Vermont", "Virginia", "Washington",
    "West_Virginia", "Wisconsin", "Wyoming",
)  # fmt: skip


def _amazon2023_raw(cat: str) -> list[RemoteFile]:
    base = f"{UCSD}/data/amazon_2023/raw"
    return [
        RemoteFile(f"{cat}.jsonl.gz", f"{base}/review_categories/{cat}.jsonl.gz"),
        RemoteFile(f"meta_{cat}.jsonl.gz", f"{base}/meta_categories/meta_{cat}.jsonl.gz"),
    ]


def _amazon2023_5core(cat: str) -> list[RemoteFile]:
    base = f"{UCSD}/data/amazon_2023/benchmark/5core/last_out_w_his"
    return [
        RemoteFile(f"{cat}.{split}.csv.gz", f"{base}/{cat}.{split}.csv.gz")
        for split in ("train", "valid", "test")
    ]


def _amazon2018(cat: str) -> list[RemoteFile]:
    base = f"{UCSD}/data/amazon_v2"
    return [
        RemoteFile(f"{cat}_5.json.gz", f"{base}/categoryFilesSmall/{cat}_5.json.gz"),
        RemoteFile(f"meta_{cat}.json.gz", f"{base}/metaFiles2/meta_{cat}.json.gz"),
    ]


def _google_local(state: str) -> list[RemoteFile]:
    base = f"{UCSD}/gdrive/googlelocal"
    return [
        RemoteFile(f"review-{state}_10.json.gz", f"{base}/review-{state}_10.json.gz"),
        RemoteFile(f"meta-{state}.json.gz", f"{base}/meta-{state}.json.gz"),
    ]


def _movielens(release: str) -> Callable[[str], list[RemoteFile]]:
    url = f"https://files.grouplens.org/datasets/movielens/{release}.zip"
    return lambda _cat: [RemoteFile(f"{release}.zip", url, unpack=True)]


#: (category, split) -> (bytes, sha256) of the pinned MiniOneRec files; the train files are
#: too large for the repository snapshot that was checked, so they carry no sum.
_MINIONEREC_PINNED: dict[tuple[str, str], tuple[int, str]] = {
    ("Industrial_and_Scientific", "test"): (3105687, "973dd1db4fd549f3f2b40a0f039dbae157ebb92c716197cc246401e4e82c3a46"),
    ("Industrial_and_Scientific", "valid"): (2915875, "12bbb02bced0bd754a8b4e0f9ca4086416e30d12b0b73a2c95e7b195dd67385a"),
    ("Industrial_and_Scientific", "index"): (3008778, "937600c7a03652f55864a1d12d6e9fe8ca3e24ecc4e255a88216b25c5f949496"),
    ("Office_Products", "test"): (3310265, "c1967034e197a7837a8962f2556efaabc12eb5bb84e1fdc79cd0accbce71add5"),
    ("Office_Products", "valid"): (3038060, "a7d8f049ae425f413def22687cebcd172c65833633ff76dd3d90a83bca98234f"),
    ("Office_Products", "index"): (2570582, "398cb2bb7868bedf2ed8ed6b24d25e172f21b7022554d1f8ea52200478494c1c"),
}  # fmt: skip


def _minionerec(cat: str) -> list[RemoteFile]:
    stem = f"{cat}_5_2016-10-2018-11.csv"
    files = [
        RemoteFile(
            f"Amazon/train/{stem}", f"{MINIONEREC_RAW}/data/Amazon/train/{stem}", optional=True
        )
    ]
    for split in ("valid", "test"):
        size, digest = _MINIONEREC_PINNED[(cat, split)]
        path = f"Amazon/{split}/{stem}"
        files.append(RemoteFile(path, f"{MINIONEREC_RAW}/data/{path}", digest, size))
    size, digest = _MINIONEREC_PINNED[(cat, "index")]
    path = f"Amazon/index/{cat}.item.json"
    files.append(RemoteFile(path, f"{MINIONEREC_RAW}/data/{path}", digest, size))
    return files


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            "amazon2023",
            "Amazon Reviews 2023, raw reviews + item metadata of one category",
            "https://amazon-reviews-2023.github.io/",
            "research use; cite Hou et al. 2024 (arXiv:2403.03952)",
            "a few MB to tens of GB per category (--dry-run prints it)",
            "amazon2023",
            _amazon2023_raw,
            lambda cat: f"{cat}.jsonl.gz",
            AMAZON2023_CATEGORIES,
        ),
        DatasetSpec(
            "amazon2023-5core",
            "Amazon Reviews 2023, official 5-core benchmark split (last_out_w_his CSVs)",
            "https://amazon-reviews-2023.github.io/",
            "research use; cite Hou et al. 2024 (arXiv:2403.03952)",
            "under 1 MB to a few GB per category (--dry-run prints it)",
            "amazon2023",
            _amazon2023_5core,
            lambda cat: f"{cat}.train.csv.gz",
            AMAZON2023_CATEGORIES,
            # the official 5-core of All_Beauty (docs/results.md, data/demo/PROVENANCE.md)
            {"All_Beauty": {"users": 253, "items": 356, "interactions": 2535}},
        ),
        DatasetSpec(
            "amazon2018",
            "Amazon Review Data 2018, 5-core reviews + item metadata of one category",
            "https://cseweb.ucsd.edu/~jmcauley/datasets/amazon_v2/",
            "research use; cite Ni, Li, McAuley, EMNLP 2019",
            "a few MB to several GB per category (--dry-run prints it)",
            "amazon2018",
            _amazon2018,
            lambda cat: f"{cat}_5.json.gz",
            AMAZON2018_CATEGORIES,
            # 5-core review counts published on the dataset page
            {
                "AMAZON_FASHION": {"interactions_read": 3176},
                "Appliances": {"interactions_read": 2277},
                "Gift_Cards": {"interactions_read": 2972},
                "Software": {"interactions_read": 12805},
            },
        ),
        DatasetSpec(
            "google-local",
            "Google Local Reviews 2021, 10-core reviews + business metadata of one state",
            "https://jiachengli1995.github.io/google/index.html",
            "research use; cite Li et al., ACL 2022 and Yan et al., SIGIR 2023",
            "tens of MB to a few GB per state (--dry-run prints it)",
            "google_local",
            _google_local,
            lambda state: f"review-{state}_10.json.gz",
            GOOGLE_LOCAL_STATES,
        ),
        DatasetSpec(
            "movielens-100k",
            "MovieLens 100K (GroupLens, 1998)",
            "https://grouplens.org/datasets/movielens/100k/",
            "GroupLens research licence: no redistribution, cite Harper & Konstan 2015",
            "5 MB",
            "movielens",
            _movielens("ml-100k"),
            lambda _cat: "ml-100k",
            expected={"": {"interactions_read": 100_000}},
        ),
        DatasetSpec(
            "movielens-1m",
            "MovieLens 1M (GroupLens, 2003)",
            "https://grouplens.org/datasets/movielens/1m/",
            "GroupLens research licence: no redistribution, cite Harper & Konstan 2015",
            "6 MB",
            "movielens",
            _movielens("ml-1m"),
            lambda _cat: "ml-1m",
            expected={"": {"interactions_read": 1_000_209}},
        ),
        DatasetSpec(
            "minionerec",
            "MiniOneRec's Amazon 2018 splits (AkaliKong/MiniOneRec, pinned commit)",
            "https://github.com/AkaliKong/MiniOneRec",
            "Apache-2.0 repository; the reviews are Amazon Review Data 2018 (research use)",
            "9 MB per category without the train file (optional, larger)",
            "minionerec",
            _minionerec,
            lambda _cat: "Amazon",
            ("Industrial_and_Scientific", "Office_Products"),
            # the row counts of the pinned files (the MiniOneRec paper's figures)
            {
                "Industrial_and_Scientific": {"test": 4533, "valid": 4532, "items": 3686},
                "Office_Products": {"test": 4866, "valid": 4866, "items": 3459},
            },
        ),
    )
}


def get_dataset(name: str) -> DatasetSpec:
    """The spec for ``name``, or a UserError listing the known names."""
    spec = DATASETS.get(name)
    if spec is None:
        raise UserError(f"unknown dataset {name!r}; one of: {', '.join(DATASETS)}")
    return spec


def with_mirror(url: str, mirror: str) -> str:
    """``url`` served from ``mirror`` instead: the host is replaced, the path kept.

    For a lab's cache of the official files (and the tests' local server): the files and
    their checks stay the same, only the host changes.
    """
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return mirror.rstrip("/") + parts.path
