"""Events a lower room announces and a higher room acts on, inside the same transaction.

``planning``, ``sessions`` and ``networks`` may not import ``rsvp`` (it is above them),
yet a moved session must notify the people who answered and a facility that leaves must
free its seats. The lower room sends one of these signals just before it commits; the higher
room's receivers add their rows (answers withdrawn, messages queued) to the same
database transaction, so both land together or not at all.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sender: the Session; ``changes``: a frozenset of "time", "place", "cancelled",
#: "capacity", "restored" (a cancelled session goes ahead after all); ``before``: a
#: ``sessions.before.Before`` of its time and place before a move or a new place (or
#: None), so that the change mail shows old and new.
session_changed = _signals.signal("session-changed")

#: sender: the Membership that has just ended (``left_on`` is set).
membership_ended = _signals.signal("membership-ended")

#: sender: the Contact who no longer works at the facility (``active`` became False).
contact_left = _signals.signal("contact-left")

#: sender: the Contact whose personal link was just renewed (the old one revoked), before
#: the commit: what the old link gave access to goes with it (their calendar feed).
personal_link_renewed = _signals.signal("personal-link-renewed")

#: sender: a Facility whose details were just changed (a form or a CSV import), before the
#: commit; ``changed``: a frozenset of the names of the attributes whose value changed. A
#: new name or address is a new LOCATION for the sessions it hosts: they get a new
#: SEQUENCE and their invitees an update (the calendar room).
facility_updated = _signals.signal("facility-updated")

#: sender: the id of a facility whose hosting facts may have changed (details, membership,
#: contacts), sent by the web layer after the change was committed, so that planning can
#: name the planned sessions that now have a problem.
facility_changed = _signals.signal("facility-changed")

#: sender: a tuple of facility ids whose hosting facts may have changed at once (a CSV
#: import), after the commit: as facility_changed, checked in a fixed number of statements.
facilities_changed = _signals.signal("facilities-changed")

#: sender: a MembershipRequest just made (a network asks a facility of another network to
#: join), before the commit: the facility's contacts are told and can answer.
membership_requested = _signals.signal("membership-requested")

#: sender: a season Poll whose members are to be mailed, before the commit; ``kind``:
#: "invitation" or "reminder"; ``contacts``: the Contacts to mail; ``today``: the local
#: date (the reminder's once-a-day key). The mail room's receiver returns how many
#: messages it queued (a message sent before under the same key is not queued again).
poll_mail_requested = _signals.signal("poll-mail-requested")

#: sender: a tuple of session ids whose werkjaar themes a lower room wants to name (the
#: attendance certificate). The learning room's receiver returns a dict session id →
#: the title of the theme of that session's werkjaar (sessions without one left out).
session_themes_wanted = _signals.signal("session-themes-wanted")

# ---- announced for the API room's webhooks (issue 26); each is sent before the commit ----

#: sender: a tuple of Sessions just created (a plan saved, one extra session), flushed.
sessions_planned = _signals.signal("sessions-planned")

#: sender: the Session that has just become "held" (its first attendance record).
session_held = _signals.signal("session-held")

#: sender: the Rsvp whose answer or waitlist place changed; ``by``: "contact",
#: "facilitator" or the system's reason ("promoted": moved up from the waitlist, "left").
answer_changed = _signals.signal("answer-changed")

#: sender: the Attendance just recorded or corrected.
attendance_recorded = _signals.signal("attendance-recorded")

#: sender: a tuple of Memberships that have just started (new rows, flushed; a CSV
#: import sends all of its new ones at once).
membership_started = _signals.signal("membership-started")

#: sender: the Contact just erased (its personal data already replaced).
contact_erased = _signals.signal("contact-erased")
