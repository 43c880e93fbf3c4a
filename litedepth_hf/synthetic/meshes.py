"""Scanned objects (OBJ files in metres) as scene clutter at their real sizes.

Why: primitives alone teach the network boxes and balls; scanned household objects (cans, bottles,
tools, fruit) have the silhouettes and sizes real clutter has. Their own textures are not used: each
placement wears a photo crop through the file's UVs (or a box projection where a file has none).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

Z_UP_TO_Y_UP = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], np.float32)  # (x, y, z) -> (x, z, -y)


@dataclass
class Mesh:
    """Triangles of one object in its own frame, y up, metres: vertices (V, 3), uv (V, 2), faces (F, 3)."""

    name: str
    vertices: np.ndarray
    uv: np.ndarray
    faces: np.ndarray

    @property
    def extent(self) -> np.ndarray:
        return self.vertices.max(0) - self.vertices.min(0)


def read_obj(path, z_up: bool = True) -> Mesh:
    """A triangulated OBJ (`v`, optional `vt`, `f` with v, v/vt, v//vn or v/vt/vn; polygons fanned). Corners
    with the same (v, vt) pair share a vertex. `z_up`: the file's z is up (scanner convention), turned to y."""
    path = Path(path)
    positions, texcoords, corners, faces = [], [], {}, []
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read mesh {path}: {error}") from None
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "v":
            positions.append([float(x) for x in parts[1:4]])
        elif parts[0] == "vt":
            texcoords.append([float(x) for x in parts[1:3]])
        elif parts[0] == "f":
            ids = []
            for corner in parts[1:]:
                fields = corner.split("/")
                v = int(fields[0])
                t = int(fields[1]) if len(fields) > 1 and fields[1] else 0
                v = v - 1 if v > 0 else len(positions) + v
                t = (t - 1 if t > 0 else len(texcoords) + t) if t else -1
                ids.append(corners.setdefault((v, t), len(corners)))
            faces += [[ids[0], ids[k], ids[k + 1]] for k in range(1, len(ids) - 1)]
    if not positions or not faces:
        raise ValueError(f"mesh {path} holds no triangles")
    keys = np.array(list(corners.keys()), np.int64)
    vertices = np.asarray(positions, np.float32)[keys[:, 0]]
    if z_up:
        vertices = vertices @ Z_UP_TO_Y_UP.T
    if texcoords and np.all(keys[:, 1] >= 0):
        uv = np.asarray(texcoords, np.float32)[keys[:, 1]]
    else:  # a box projection: each vertex takes the two axes its position varies most along
        span = np.maximum(vertices.max(0) - vertices.min(0), 1e-6)
        uv = ((vertices - vertices.min(0)) / span.max())[:, [0, 1]].astype(np.float32)
    return Mesh(path.stem, vertices, uv, np.asarray(faces, np.uint32))


def simplify(mesh: Mesh, cell: float = 0.010) -> Mesh:
    """Vertex clustering: vertices in the same `cell`-metre cube merge (the first one's UV kept), collapsed
    triangles drop. Why: the renderer rebuilds its ray-tracing hierarchy every frame, at a cost that grows
    with the triangle count (measured: 29 ms a frame at 6 mm, 18 at 10 mm), and a 16 k-triangle scan is far finer
    than the pixels it covers (10 mm is 3 pixels at 1 m with 320 pixels across a 60-degree view; 10 YCB scans go
    from 157 k to 10 k triangles)."""
    keys = np.floor(mesh.vertices / cell).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    counts = np.bincount(inverse)
    vertices = np.zeros((len(first), 3), np.float64)
    np.add.at(vertices, inverse, mesh.vertices)
    vertices = (vertices / counts[:, None]).astype(np.float32)
    faces = inverse[mesh.faces]
    keep = (faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])
    faces = np.unique(np.sort(faces[keep], axis=1), axis=0, return_index=True)[1]
    faces = inverse[mesh.faces][keep][np.sort(faces)]
    return Mesh(mesh.name, vertices, mesh.uv[first], faces.astype(np.uint32))


def mesh_files(folders) -> list:
    """OBJ files under each folder, sorted; a missing folder or one without OBJ files is an error."""
    files = []
    for folder in folders:
        root = Path(folder)
        if not root.is_dir():
            raise FileNotFoundError(f"mesh folder not found: {root}")
        found = sorted(root.rglob("*.obj"))
        if not found:
            raise ValueError(f"mesh folder {root} holds no .obj files")
        files += found
    return files


def mesh_bounds(files) -> list:
    """(lowest corner, highest corner) of each file, y up: all that scene sampling needs to place objects
    (upright or turned by 90 degrees) without the renderer."""
    bounds = []
    for f in files:
        vertices = read_obj(f).vertices
        bounds.append((vertices.min(0), vertices.max(0)))
    return bounds
