"""A DLPack producer written with ctypes, to test how the module consumes capsules.

`Producer(array, ...)` exposes `__dlpack__` over a numpy array's memory and records what the
consumer does: how many times the tensor's deleter ran, and the capsules it handed out (whose
names show whether they were consumed). It can produce legacy ("dltensor") or versioned
("dltensor_versioned") capsules, claim any device, version, flags or dtype code, and behave like
a pre-1.0 producer that does not know the `max_version` keyword.

The capsule destructor follows the protocol: it calls the deleter only while the capsule still
has its original name, i.e. when nobody consumed it.
"""

import ctypes

LEGACY = b"dltensor"
VERSIONED = b"dltensor_versioned"

KDL_CPU, KDL_CUDA, KDL_CUDA_HOST = 1, 2, 3
CODE_INT, CODE_UINT, CODE_FLOAT, CODE_COMPLEX, CODE_BOOL = 0, 1, 2, 5, 6
FLAG_READ_ONLY = 1


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int), ("device_id", ctypes.c_int)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int),
                ("dtype", DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


DELETER = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", DELETER)]


class DLPackVersion(ctypes.Structure):
    _fields_ = [("major", ctypes.c_uint32), ("minor", ctypes.c_uint32)]


class DLManagedTensorVersioned(ctypes.Structure):
    _fields_ = [("version", DLPackVersion), ("manager_ctx", ctypes.c_void_p), ("deleter", DELETER),
                ("flags", ctypes.c_uint64), ("dl_tensor", DLTensor)]


_api = ctypes.pythonapi
CAPSULE_DESTRUCTOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_api.PyCapsule_New.restype = ctypes.py_object
_api.PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, CAPSULE_DESTRUCTOR]
_api.PyCapsule_IsValid.restype = ctypes.c_int
_api.PyCapsule_IsValid.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_api.PyCapsule_GetPointer.restype = ctypes.c_void_p
_api.PyCapsule_GetPointer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_api.PyCapsule_GetName.restype = ctypes.c_char_p
_api.PyCapsule_GetName.argtypes = [ctypes.py_object]

# Every managed tensor handed out, by address: (producer, ctypes objects kept alive).
_tensors = {}


@DELETER
def _deleter(address):
    producer, _ = _tensors[address]
    producer.deleter_calls += 1


@CAPSULE_DESTRUCTOR
def _capsule_destructor(capsule):
    for name in (LEGACY, VERSIONED):
        if _api.PyCapsule_IsValid(capsule, name):  # not consumed: the producer cleans up
            _deleter(_api.PyCapsule_GetPointer(capsule, name))


def capsule_name(capsule):
    return _api.PyCapsule_GetName(capsule).decode()


class Producer:
    """__dlpack__ over `array` (kept alive), claiming the given device, version, flags, dtype."""

    def __init__(self, array, *, knows_max_version=True, device_type=KDL_CPU, version=(1, 0),
                 flags=0, dtype=None, capsule_name=None):
        self.array = array
        self.knows_max_version = knows_max_version
        self.device_type = device_type
        self.version = version
        self.flags = flags
        self.dtype = dtype  # (code, bits) or None: from the array
        self.capsule_name = capsule_name  # force a capsule name
        self.deleter_calls = 0
        self.capsules = []
        self.requests = []

    def __dlpack__(self, stream=None, **kwargs):
        self.requests.append(dict(kwargs))
        if kwargs and not self.knows_max_version:
            raise TypeError("__dlpack__() got an unexpected keyword argument 'max_version'")
        max_version = kwargs.get("max_version")
        versioned = max_version is not None and max_version[0] >= 1
        capsule = self._capsule(versioned)
        self.capsules.append(capsule)
        return capsule

    def _capsule(self, versioned):
        a = self.array
        shape = (ctypes.c_int64 * a.ndim)(*a.shape)
        strides = (ctypes.c_int64 * a.ndim)(*(s // a.itemsize for s in a.strides))
        code = {"f": CODE_FLOAT, "i": CODE_INT, "u": CODE_UINT, "b": CODE_BOOL,
                "c": CODE_COMPLEX}[a.dtype.kind]
        code, bits = self.dtype or (code, a.itemsize * 8)
        tensor = DLTensor(data=a.ctypes.data, device=DLDevice(self.device_type, 0), ndim=a.ndim,
                          dtype=DLDataType(code, bits, 1), shape=shape, strides=strides,
                          byte_offset=0)
        if versioned:
            managed = DLManagedTensorVersioned(version=DLPackVersion(*self.version),
                                               manager_ctx=None, deleter=_deleter,
                                               flags=self.flags, dl_tensor=tensor)
            name = VERSIONED
        else:
            managed = DLManagedTensor(dl_tensor=tensor, manager_ctx=None, deleter=_deleter)
            name = LEGACY
        if self.capsule_name is not None:
            name = self.capsule_name
        address = ctypes.addressof(managed)
        _tensors[address] = (self, (managed, shape, strides))
        return _api.PyCapsule_New(address, name, _capsule_destructor)


def only_dlpack(obj):
    """An object that offers nothing but __dlpack__ (no __array__, no buffer): numpy.asarray
    cannot read it, so only the DLPack path can."""

    class OnlyDLPack:
        def __dlpack__(self, *args, **kwargs):
            return obj.__dlpack__(*args, **kwargs)

    return OnlyDLPack()
