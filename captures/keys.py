"""Constants for capture formats: the datatype table and the SigMF metadata keys.

Every SigMF key string used by `captures` lives here, so a typo is a NameError rather than a
silently missing field (the same idea as sigmf-python's ``keys.py``).

References
----------
SigMF specification v1.2, https://github.com/sigmf/SigMF (``sigmf-spec.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: SigMF specification version written by :class:`captures.sigmf_io.SigMFWriter`.
SIGMF_VERSION = "1.2.0"
#: Version declared in ``core:extensions`` for namespaces the writer finds undeclared.
EXTENSION_VERSION = "0.1.0"
#: Value written to ``core:recorder``.
RECORDER_NAME = "spectrum"

# File extensions.
SIGMF_META_EXT = ".sigmf-meta"
SIGMF_DATA_EXT = ".sigmf-data"
SIGMF_ARCHIVE_EXT = ".sigmf"
HDF5_EXTS = (".h5", ".hdf5")

# Top-level objects.
GLOBAL_KEY = "global"
CAPTURE_KEY = "captures"
ANNOTATION_KEY = "annotations"

# Global object.
DATATYPE_KEY = "core:datatype"
SAMPLE_RATE_KEY = "core:sample_rate"
VERSION_KEY = "core:version"
NUM_CHANNELS_KEY = "core:num_channels"
OFFSET_KEY = "core:offset"
SHA512_KEY = "core:sha512"
DESCRIPTION_KEY = "core:description"
RECORDER_KEY = "core:recorder"
AUTHOR_KEY = "core:author"
HW_KEY = "core:hw"
DATASET_KEY = "core:dataset"
TRAILING_BYTES_KEY = "core:trailing_bytes"
METADATA_ONLY_KEY = "core:metadata_only"
EXTENSIONS_KEY = "core:extensions"

# Capture segment objects.
SAMPLE_START_KEY = "core:sample_start"
FREQUENCY_KEY = "core:frequency"
DATETIME_KEY = "core:datetime"
GLOBAL_INDEX_KEY = "core:global_index"
HEADER_BYTES_KEY = "core:header_bytes"

# Annotation segment objects (``core:sample_start`` is shared with captures).
SAMPLE_COUNT_KEY = "core:sample_count"

# Our own extension: a checkpoint of a recording still being written (``NAME.partial.sigmf-meta``
# next to the data being appended): how many samples were safely on disk at the checkpoint.
CHECKPOINT_SAMPLES_KEY = "spectrum:checkpoint_samples"
PARTIAL_META_SUFFIX = ".partial.sigmf-meta"
FREQ_LOWER_EDGE_KEY = "core:freq_lower_edge"
FREQ_UPPER_EDGE_KEY = "core:freq_upper_edge"
LABEL_KEY = "core:label"
COMMENT_KEY = "core:comment"
GENERATOR_KEY = "core:generator"


@dataclass(frozen=True)
class DataType:
    """One supported sample datatype.

    Attributes
    ----------
    name : str
        SigMF datatype name (``cu8``, ``ci8``, ``ci16_le``, ``cf32_le``).
    dtype : numpy.dtype
        Dtype of one component (I or Q) in the interleaved native array.
    bytes_per_sample : int
        Bytes per complex sample (I and Q together).
    aliases : tuple of str
        Other accepted names (raw-file format names as used by rtl_433).
    """

    name: str
    dtype: np.dtype
    bytes_per_sample: int
    aliases: tuple[str, ...] = ()


#: Supported datatypes by SigMF name. Samples are kept "interleaved native": I, Q, I, Q, ...
DATATYPES: dict[str, DataType] = {
    "cu8": DataType("cu8", np.dtype(np.uint8), 2, ("cu8",)),
    "ci8": DataType("ci8", np.dtype(np.int8), 2, ("cs8",)),
    "ci16_le": DataType("ci16_le", np.dtype("<i2"), 4, ("cs16", "cs16_le")),
    "cf32_le": DataType("cf32_le", np.dtype("<f4"), 8, ("cf32",)),
}

#: Every accepted datatype spelling (SigMF name or alias) -> SigMF name.
DATATYPE_NAMES: dict[str, str] = {
    alias: dt.name for dt in DATATYPES.values() for alias in (dt.name, *dt.aliases)
}

#: Raw-file extension -> SigMF datatype (rtl_433 naming; ``.bin`` is rtl_sdr's cu8 output).
RAW_EXTENSIONS: dict[str, str] = {
    ".cu8": "cu8",
    ".cs8": "ci8",
    ".cs16": "ci16_le",
    ".cf32": "cf32_le",
    ".bin": "cu8",
}

#: Raw format names offered to users on the command line.
RAW_FORMATS = ("cu8", "cs8", "cs16", "cf32")
