"""Default-deny allowlists of exact (module, name) pairs per framework profile, and a denylist.

A global passes only when its exact pair is listed for the active profile. The denylist does
not decide what passes; it only marks globals that are dangerous even when merely referenced
(they are blocked outright, with a critical finding).
"""

from __future__ import annotations

from typing import Final

Pair = tuple[str, str]


def _pairs(module: str, names: str) -> frozenset[Pair]:
    return frozenset((module, n) for n in names.split())


_BUILTIN_SAFE = (
    "set frozenset dict list tuple int float complex bool str bytes bytearray slice range "
    "len object"
)

BASE: Final[frozenset[Pair]] = (
    _pairs("builtins", _BUILTIN_SAFE)
    | _pairs("__builtin__", _BUILTIN_SAFE + " unicode long")
    | _pairs("collections", "OrderedDict defaultdict deque Counter")
    | _pairs("copy_reg", "_reconstructor")
    | _pairs("copyreg", "_reconstructor")
    | _pairs("_codecs", "encode")
    | _pairs("datetime", "datetime date time timedelta timezone")
    | _pairs("decimal", "Decimal")
    | _pairs("fractions", "Fraction")
    | _pairs("uuid", "UUID")
    | _pairs("pathlib", "Path PosixPath WindowsPath PurePath PurePosixPath PureWindowsPath")
)

NUMPY: Final[frozenset[Pair]] = (
    _pairs("numpy", "ndarray dtype bool_ float16 float32 float64 int8 int16 int32 int64 uint8")
    | _pairs("numpy.core.multiarray", "_reconstruct scalar")
    | _pairs("numpy._core.multiarray", "_reconstruct scalar")
    | _pairs("numpy.core.numeric", "_frombuffer")
    | _pairs("numpy._core.numeric", "_frombuffer")
    | _pairs("numpy.ma.core", "_mareconstruct MaskedArray")
    | _pairs(
        "numpy.random._pickle",
        "__randomstate_ctor __bit_generator_ctor __generator_ctor",
    )
    | _pairs("numpy.dtypes", "Float64DType Float32DType Int64DType Int32DType")
)

_TORCH_STORAGES = (
    "FloatStorage DoubleStorage HalfStorage BFloat16Storage LongStorage IntStorage "
    "ShortStorage CharStorage ByteStorage BoolStorage ComplexFloatStorage ComplexDoubleStorage "
    "QInt8Storage QUInt8Storage QInt32Storage QUInt4x2Storage QUInt2x4Storage UntypedStorage"
)
_TORCH_DTYPES = (
    "float32 float64 float16 bfloat16 int64 int32 int16 int8 uint8 bool complex64 complex128 "
    "float8_e4m3fn float8_e5m2 float uint16 uint32 uint64 half double long int short"
)
_TORCH_NN = {
    "linear": "Linear Identity Bilinear LazyLinear",
    "container": "Sequential ModuleList ModuleDict ParameterList ParameterDict",
    "activation": "ReLU GELU SiLU Tanh Sigmoid Softmax LeakyReLU ELU MultiheadAttention",
    "conv": "Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d",
    "batchnorm": "BatchNorm1d BatchNorm2d BatchNorm3d",
    "normalization": "LayerNorm GroupNorm RMSNorm",
    "dropout": "Dropout Dropout2d",
    "sparse": "Embedding EmbeddingBag",
    "pooling": "MaxPool2d AvgPool2d AdaptiveAvgPool2d",
    "flatten": "Flatten Unflatten",
    "rnn": "LSTM GRU RNN",
    "transformer": "Transformer TransformerEncoder TransformerEncoderLayer",
    "loss": "CrossEntropyLoss MSELoss",
}

TORCH: Final[frozenset[Pair]] = (
    _pairs(
        "torch._utils",
        "_rebuild_tensor _rebuild_tensor_v2 _rebuild_tensor_v3 _rebuild_parameter "
        "_rebuild_parameter_with_state _rebuild_sparse_tensor _rebuild_qtensor "
        "_rebuild_device_tensor_from_numpy _rebuild_meta_tensor_no_storage "
        "_rebuild_wrapper_subclass _rebuild_nested_tensor _rebuild_device_tensor_from_cpu_tensor",
    )
    | _pairs("torch", _TORCH_STORAGES + " " + _TORCH_DTYPES + " Size device Tensor")
    | _pairs("torch.storage", "TypedStorage UntypedStorage")
    | _pairs("torch._tensor", "_rebuild_from_type_v2")
    | _pairs("torch.nn.parameter", "Parameter Buffer")
    | _pairs("torch.serialization", "_get_layout")
    | _pairs("torch.torch_version", "TorchVersion")
    | _pairs("torch.nn.modules.module", "_IncompatibleKeys")
    # QConfig observers: partial(ObserverClass, **kwargs); what it wraps is judged on its own.
    | _pairs("functools", "partial")
    | frozenset(
        (f"torch.nn.modules.{mod}", n) for mod, names in _TORCH_NN.items() for n in names.split()
    )
)

TRAINING_ARGS: Final[frozenset[Pair]] = (
    _pairs("argparse", "Namespace")
    | _pairs("transformers.training_args", "TrainingArguments OptimizerNames")
    | _pairs("transformers.training_args_seq2seq", "Seq2SeqTrainingArguments")
    | _pairs(
        "transformers.trainer_utils",
        "IntervalStrategy SchedulerType HubStrategy SaveStrategy EvaluationStrategy",
    )
    | _pairs("transformers.debug_utils", "DebugOption")
    | _pairs("transformers.trainer_pt_utils", "AcceleratorConfig")
    | _pairs("transformers.training_args", "ParallelMode")
    | _pairs("transformers.trainer_utils", "FSDPOption")
    | _pairs("lightning_fabric.utilities.data", "AttributeDict")
    | _pairs("pytorch_lightning.utilities.parsing", "AttributeDict")
    | _pairs("lightning.fabric.utilities.data", "AttributeDict")
    | _pairs("transformers.trainer_callback", "TrainerState")
    | _pairs("accelerate.utils.dataclasses", "DistributedType")
    | _pairs("accelerate.state", "PartialState")
    | _pairs("omegaconf.dictconfig", "DictConfig")
    | _pairs("omegaconf.listconfig", "ListConfig")
    | _pairs("omegaconf.base", "ContainerMetadata Metadata")
    | _pairs("omegaconf.nodes", "AnyNode ValueNode StringNode IntegerNode FloatNode BooleanNode")
    | _pairs("typing", "Any")
)

_SKLEARN = {
    "sklearn.linear_model._base": "LinearRegression",
    "sklearn.linear_model._logistic": "LogisticRegression",
    "sklearn.linear_model._ridge": "Ridge",
    "sklearn.tree._classes": "DecisionTreeClassifier DecisionTreeRegressor",
    "sklearn.tree._tree": "Tree",
    "sklearn.ensemble._forest": "RandomForestClassifier RandomForestRegressor",
    "sklearn.ensemble._gb": "GradientBoostingClassifier GradientBoostingRegressor",
    "sklearn.preprocessing._data": "StandardScaler MinMaxScaler",
    "sklearn.preprocessing._label": "LabelEncoder",
    "sklearn.preprocessing._encoders": "OneHotEncoder",
    "sklearn.pipeline": "Pipeline",
    "sklearn.svm._classes": "SVC SVR LinearSVC",
    "sklearn.neighbors._classification": "KNeighborsClassifier",
    "sklearn.decomposition._pca": "PCA",
    "sklearn.cluster._kmeans": "KMeans",
    "sklearn.feature_extraction.text": "TfidfVectorizer CountVectorizer",
    "sklearn.impute._base": "SimpleImputer",
    "sklearn.compose._column_transformer": "ColumnTransformer",
    "sklearn._loss.loss": "HalfBinomialLoss HalfMultinomialLoss HalfSquaredError",
    "sklearn._loss.link": "LogitLink Interval",
}

SKLEARN: Final[frozenset[Pair]] = (
    frozenset((m, n) for m, names in _SKLEARN.items() for n in names.split())
    | _pairs("joblib.numpy_pickle", "NumpyArrayWrapper NDArrayWrapper")
    | _pairs("joblib.numpy_pickle_compat", "NDArrayWrapper ZNDArrayWrapper")
)

TORCHSCRIPT: Final[frozenset[Pair]] = _pairs(
    "torch.jit._pickle",
    "build_intlist build_tensorlist build_doublelist build_boollist build_tensor_from_id "
    "restore_type_tag",
)

# TorchScript archives name their own compiled classes "__torch__.<...>": the TorchScript
# loader resolves them from the archive's code/ folder, never by importing Python modules.
TORCHSCRIPT_CLASS_PREFIX: Final = "__torch__."

PROFILES: Final[dict[str, frozenset[Pair]]] = {
    "base": BASE,
    "numpy": BASE | NUMPY,
    "torch": BASE | NUMPY | TORCH | TRAINING_ARGS,
    "sklearn": BASE | NUMPY | SKLEARN,
    "torchscript": BASE | NUMPY | TORCH | TORCHSCRIPT,
    "any": BASE | NUMPY | TORCH | TRAINING_ARGS | SKLEARN,
}

# Modules whose every member is dangerous to import from a pickle: they run commands, open
# files or sockets, load code, or reach the interpreter.
_DANGEROUS_MODULES = frozenset(
    [
        "os",
        "posix",
        "nt",
        "posixpath",
        "ntpath",
        "subprocess",
        "_posixsubprocess",
        "sys",
        "socket",
        "_socket",
        "shutil",
        "runpy",
        "pty",
        "importlib",
        "imp",
        "zipimport",
        "pkgutil",
        "code",
        "codeop",
        "commands",
        "ctypes",
        "_ctypes",
        "marshal",
        "pickle",
        "_pickle",
        "cPickle",
        "dill",
        "cloudpickle",
        "joblib",
        "webbrowser",
        "asyncio",
        "multiprocessing",
        "_multiprocessing",
        "concurrent",
        "pydoc",
        "cProfile",
        "profile",
        "timeit",
        "pdb",
        "bdb",
        "trace",
        "types",
        "inspect",
        "platform",
        "popen2",
        "telnetlib",
        "smtplib",
        "imaplib",
        "ftplib",
        "poplib",
        "nntplib",
        "http",
        "httplib",
        "urllib",
        "urllib2",
        "urllib3",
        "requests",
        "socketserver",
        "xmlrpc",
        "ssl",
        "tempfile",
        "io",
        "_io",
        "shelve",
        "glob",
        "sqlite3",
        "logging",
        "distutils",
        "setuptools",
        "pip",
        "venv",
        "ensurepip",
        "signal",
        "_thread",
        "thread",
        "threading",
        "_osx_support",
        "_aix_support",
        "_pyrepl",
        "test",
        "unittest",
        "doctest",
        "tkinter",
        "_interpreters",
        "_xxsubinterpreters",
        "interpreters",
        "builtins_module",
        "sysconfig",
        "site",
        "gc",
        "weakref",
        "operator",
        "functools",
        "bz2",
        "gzip",
        "lzma",
        "zipfile",
        "tarfile",
        "mmap",
        "fcntl",
        "resource",
        "select",
        "selectors",
        "selectors2",
        "_winapi",
        "msvcrt",
        "winreg",
        "nturl2path",
        "linecache",
        "tokenize",
        "compileall",
        "py_compile",
        "modulefinder",
        "dbm",
        "shlex",
        "uuid",
        "cgi",
        "cgitb",
        # Aliases and back doors named in published bypasses (picklescan, modelscan and
        # fickling advisories; JFrog, Sonatype and ReversingLabs write-ups).
        "_operator",
        "_functools",
        "copyreg",
        "copy_reg",
        "_compat_pickle",
        "_pickle",
        "_sitebuiltins",
        "mailcap",
        "lib2to3",
        "idlelib",
        "pyexpat",
        "_bootlocale",
        "fileinput",
        "codecs",
        "_codecs_helper",
        "builtins_",
        "atexit",
        "faulthandler",
        "_signal",
        "_imp",
        "_frozen_importlib",
        "_frozen_importlib_external",
        "_weakref",
        "_abc",
        "ast",
        "dis",
        "opcode",
        "pickletools",
        "xxsubtype",
        "_testcapi",
        "_testinternalcapi",
        "_posixshmem",
        "_lsprof",
        "_tracemalloc",
        "configparser",
        "netrc",
        "mimetypes",
        "ctypes",
        "cffi",
        "numexpr",
        "IPython",
        "ipykernel",
        "jupyter_client",
        "nbformat",
        "dask",
        "fsspec",
        "smart_open",
        "boto3",
        "botocore",
        "paramiko",
        "fabric",
        "invoke",
        "sh",
        "plumbum",
        "pexpect",
    ]
)

_DANGEROUS_PREFIXES = (
    "numpy.f2py",
    "numpy.testing",
    "numpy.distutils",
    "numpy.lib.npyio",
    "numpy.load",
    "torch.hub",
    "torch.serialization",
    "torch.jit",
    "torch.ops",
    "torch._dynamo",
    "torch._inductor",
    "torch.utils.cpp_extension",
    "torch._C",
    "torch.package",
    "torch.storage._load_from_bytes",
    "torch.load",
    "transformers.dynamic_module_utils",
    "keras.src.utils",
    "tensorflow.python.ops.script_ops",
    "jinja2",
    "mako",
    "yaml",
    # Loaders reached from inside a pickle: a nested pickle.loads, torch.load or numpy.load
    # runs a second, unscanned stream.
    "numpy.lib.format",
    "numpy.lib._format_impl",
    "numpy.lib._npyio_impl",
    "numpy.lib._utils_impl",
    "numpy._core._internal",
    "numpy.ctypeslib",
    "pandas.read_pickle",
    "pandas.io",
    "pandas.eval",
    "pandas.core.computation",
    "torch.utils.bottleneck",
    "torch.utils.collect_env",
    "torch.utils._config_module",
    "torch.fx",
    "torch._export",
    "torch.export",
    "torch.distributed",
    "torch.multiprocessing",
    "torch.compile",
    "torch.library",
    "torch._ops",
    "torch._classes",
    "torch.classes",
    "torch.cuda",
    "torch.backends",
    "torch.testing",
    "torch._library",
    "torch._higher_order_ops",
    "torch._functorch",
    "torch.utils.data.datapipes",
    "transformers.models.auto",
    "transformers.modeling_utils",
    "transformers.tokenization_utils_base",
    "transformers.utils.hub",
    "transformers.pipelines",
    "transformers.trainer.Trainer",
    "sklearn.utils._testing",
    "sklearn.datasets",
    "scipy.io",
    "scipy._lib._testutils",
    "lightning.pytorch.core.saving",
    "lightning.fabric.utilities.cloud_io",
    "lightning.pytorch.cli",
    "pytorch_lightning.core.saving",
    "xgboost.core.Booster.load_model",
    "xgboost.tracker",
    "lightgbm.basic._load_pandas_categorical",
    "keras.models",
    "keras.saving",
    "tensorflow",
)

_DANGEROUS_BUILTINS = frozenset(
    [
        "eval",
        "exec",
        "compile",
        "open",
        "__import__",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "input",
        "breakpoint",
        "help",
        "exit",
        "quit",
        "execfile",
        "file",
        "reload",
        "type",
        "super",
        "memoryview",
        "classmethod",
        "staticmethod",
        "property",
        "__loader__",
        "__build_class__",
        "__builtins__",
    ]
)


def is_dangerous(module: str, name: str) -> bool:
    """True when referencing this global alone warrants blocking the file."""
    top = module.split(".", 1)[0]
    if module in ("builtins", "__builtin__", "__builtins__"):
        return name in _DANGEROUS_BUILTINS or name.startswith("_")
    if top in _DANGEROUS_MODULES:
        return True
    full = f"{module}.{name}"
    if any(full == p or full.startswith(p + ".") for p in _DANGEROUS_PREFIXES):
        return True
    if "." in name:
        # Protocol 4 resolves dotted names attribute by attribute: a path that passes through
        # a dangerous module ("torch.serialization" + "os.system", "collections" +
        # "_sys.modules") or ends on a dangerous builtin reaches it from a harmless module.
        parts = name.split(".")
        if any(p in _DANGEROUS_MODULES or p.lstrip("_") in _DANGEROUS_MODULES for p in parts):
            return True
        if parts[-1] in _DANGEROUS_BUILTINS or parts[-1] in _DANGEROUS_CALLS:
            return True
    # A dotted attribute path reaching into a module's dunder attributes escapes any allowlist
    # (for example "OrderedDict.__init__.__globals__").
    return "__" in name and "." in name


# Method names that run code or touch files whatever object they are reached through.
_DANGEROUS_CALLS = frozenset(
    {"system", "popen", "spawn", "exec", "eval", "load", "loads", "run", "call", "check_output"}
)


def is_torchscript_class(module: str) -> bool:
    """TorchScript's own compiled classes: `__torch__` itself (classes of `__main__`) or below."""
    return module == TORCHSCRIPT_CLASS_PREFIX[:-1] or module.startswith(TORCHSCRIPT_CLASS_PREFIX)


def profile_for(kind: str) -> frozenset[Pair]:
    """The allowlist to use for a container kind (a profile name); unknown kinds get 'any'."""
    return PROFILES.get(kind, PROFILES["any"])
