"""The review queue's logic, beside ``review``: one suspect at a time, one decision each.

- ``decisions``: a reviewer's answer to one suspect -> review-store events, and what counts
  as reviewed;
- ``cards``: what a card shows for one suspect (title, photos with captions, face crops).

The page (``pages/9_Queue.py``) and its panel (``ui/queue.py``) only draw; this room decides.
"""
