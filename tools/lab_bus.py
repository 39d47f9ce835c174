#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A raw D-Bus client for the lab, run as any user: calls one helper method with arguments typed
from the helper's own introspection data (or a signature given by hand, to send wrong types) and
prints the reply or the error name as JSON. Importable too, for calls made as root."""

import argparse
import fcntl
import json
import os
import sys
import xml.etree.ElementTree as ET

import dbus

SERVICE = "io.github.portico.Helper1"
PATH = "/io/github/portico/Helper1"
INTERFACE = "io.github.portico.Helper1"


def variantValue(value):
    # Wrong types are part of the tests, so a value keeps the type its JSON form suggests.
    if isinstance(value, bool):
        return dbus.Boolean(value)
    if isinstance(value, int):
        return dbus.Int32(value)
    if isinstance(value, str):
        return dbus.String(value)
    if isinstance(value, list):
        return dbus.Array([dbus.String(v) for v in value], signature="s")
    if isinstance(value, dict):
        return dbus.Dictionary({k: variantValue(v) for k, v in value.items()}, signature="sv")
    raise ValueError(f"no D-Bus form for {value!r}")


def splitSignature(sig):
    """Splits a signature into its complete types: 'a{sv}t' -> ['a{sv}', 't']."""
    out, i = [], 0
    while i < len(sig):
        j = i
        while sig[j] == "a":
            j += 1
        if sig[j] in "({":
            depth, k = 0, j
            while True:
                if sig[k] in "({":
                    depth += 1
                elif sig[k] in ")}":
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            j = k
        out.append(sig[i : j + 1])
        i = j + 1
    return out


SEALS = fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW


def makeFile(spec):
    """A descriptor for an argument of type h, made in this process (so as this user):
    {"text": T} a memfd holding T ({"spaces": N}: N blanks), sealed unless "sealed": false;
    {"pipe": true} the read end of
    a pipe nobody writes to; {"path": P} a file opened for reading."""
    if "pipe" in spec:
        r, w = os.pipe()
        makeFile.keep.append(w)  # held open: a reader of r would wait for it forever
        return r
    if "path" in spec:
        return os.open(spec["path"], os.O_RDONLY)
    fd = os.memfd_create("lab-bus", os.MFD_ALLOW_SEALING)
    if "spaces" in spec:  # {"spaces": N}: N bytes of blanks, too big to pass as text
        os.ftruncate(fd, spec["spaces"])
        os.pwrite(fd, b" " * spec["spaces"], 0)
    else:
        os.write(fd, spec["text"].encode())
    if spec.get("sealed", True):
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, SEALS)
    return fd


makeFile.keep = []


def readFile(fd):
    """What a descriptor in a reply holds, and whether it came sealed."""
    seals = fcntl.fcntl(fd, fcntl.F_GET_SEALS)
    size = os.fstat(fd).st_size
    text = os.pread(fd, size, 0).decode()
    os.close(fd)
    return {"text": text, "sealed": seals & SEALS == SEALS}


def typed(sig, value):
    if sig == "h":
        return dbus.types.UnixFd(makeFile(value))
    if sig == "s":
        return dbus.String(value)
    if sig == "b":
        return dbus.Boolean(value)
    if sig == "t":
        return dbus.UInt64(value)
    if sig == "u":
        return dbus.UInt32(value)
    if sig == "i":
        return dbus.Int32(value)
    if sig == "a{sv}":
        return dbus.Dictionary({k: variantValue(v) for k, v in value.items()}, signature="sv")
    if sig == "aa{sv}":
        return dbus.Array([typed("a{sv}", v) for v in value], signature="a{sv}")
    if sig == "as":
        return dbus.Array([dbus.String(v) for v in value], signature="s")
    raise ValueError(f"lab_bus.py cannot build a value of type {sig}")


def plain(value):
    """dbus-python values to JSON-able Python values."""
    if isinstance(value, dbus.types.UnixFd):
        return readFile(value.take())
    if isinstance(value, dbus.Boolean):
        return bool(value)
    if isinstance(value, (dbus.Dictionary, dict)):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (dbus.Array, dbus.Struct, list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (dbus.String, dbus.ObjectPath, dbus.Signature, str)):
        return str(value)
    if isinstance(value, (int, dbus.Byte)):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def connect(address):
    return dbus.bus.BusConnection(address)


def introspect(bus):
    xml = bus.call_blocking(SERVICE, PATH, "org.freedesktop.DBus.Introspectable", "Introspect",
                            "", [], timeout=30)
    return ET.fromstring(str(xml))


def methods(bus):
    """{name: (in_signature, out_signature)} of our interface, from the live helper."""
    out = {}
    for iface in introspect(bus).iter("interface"):
        if iface.get("name") != INTERFACE:
            continue
        for m in iface.iter("method"):
            ins = "".join(a.get("type") for a in m.iter("arg") if a.get("direction", "in") == "in")
            outs = "".join(a.get("type") for a in m.iter("arg") if a.get("direction") == "out")
            out[m.get("name")] = (ins, outs)
    return out


def call(bus, method, args, signature=None, timeout=60):
    """Returns {"ok": True, "result": [...]} or {"ok": False, "error": name, "message": text}."""
    if signature is None:
        signature = methods(bus)[method][0]
    values = [typed(s, a) for s, a in zip(splitSignature(signature), args)] if signature else []
    try:
        reply = bus.call_blocking(SERVICE, PATH, INTERFACE, method, signature, values,
                                  timeout=timeout)
    except dbus.exceptions.DBusException as e:
        return {"ok": False, "error": e.get_dbus_name(), "message": e.get_dbus_message()}
    if reply is None:
        reply = []
    elif not isinstance(reply, tuple):
        reply = [reply]
    return {"ok": True, "result": plain(list(reply))}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bus", required=True)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("call")
    c.add_argument("method")
    c.add_argument("args", nargs="?", default="[]", help="JSON list of arguments")
    c.add_argument("--signature", help="send these types instead of the introspected ones")
    sub.add_parser("methods")
    args = parser.parse_args()
    bus = connect(args.bus)
    if args.command == "methods":
        print(json.dumps(methods(bus)))
        return 0
    print(json.dumps(call(bus, args.method, json.loads(args.args), args.signature)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
