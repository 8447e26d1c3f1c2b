"""Every word the ``labflow`` command prints, in English and Indonesian, in one place.

A secretariat in a regency runs labflow in Indonesian: help, usage errors, table heads,
statuses, labels and sentences all come from here, keyed by a stable name, so that a test
can hold both languages to the same keys and the same placeholders. Sentences about gates
(what a requirement found unmet) are the requirements' own and come with the verdict.

English plurals are written ``{n|innovation|innovations}``: the first form when the
parameter ``n`` is 1, the second otherwise. Indonesian does not inflect for number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

__all__ = ["CATALOGUE", "LANGUAGES", "has", "message"]

#: The catalogue's languages, in the order of each entry.
LANGUAGES: Final = ("en", "id")

_PLURAL: Final = re.compile(r"\{(\w+)\|([^{}|]*)\|([^{}|]*)\}")

_EXIT_CODES_EN = """\
exit codes:
  0  success
  1  refused (a gate is unmet, the actor lacks the role, an unknown id, ...)
  2  bad input or usage (malformed CSV, JSON or policy; a file that cannot be
     read or written; wrong arguments; a lab id that is taken)
  3  storage problem (database missing, unopenable, corrupt, newer, locked)
  4  conflict (another writer changed it first; nothing was written)
  5  verification failed (a history was tampered with; a read still answers,
     after a warning, from what verifies)

Options --db, --lab, --lang and --json may come before or after the command.
Shell completion: eval "$(labflow completion bash)"

Start with:  labflow demo
"""

_EXIT_CODES_ID = """\
kode keluar:
  0  berhasil
  1  ditolak (syarat tahap belum terpenuhi, pelaku tidak berperan, id tidak dikenal, ...)
  2  masukan atau pemakaian salah (CSV, JSON atau kebijakan rusak; berkas tidak dapat
     dibaca atau ditulis; argumen salah; id laboratorium sudah dipakai)
  3  masalah penyimpanan (basis data tidak ada, tidak dapat dibuka, rusak, lebih baru,
     terkunci)
  4  konflik (penulis lain mengubahnya lebih dulu; tidak ada yang ditulis)
  5  verifikasi gagal (sebuah riwayat telah diubah; perintah baca tetap menjawab,
     setelah peringatan, dari yang terverifikasi)

Opsi --db, --lab, --lang dan --json boleh ditulis sebelum atau sesudah perintah.
Pelengkapan otomatis shell: eval "$(labflow completion bash)"

Mulai dengan:  labflow demo
"""

#: key -> (English, Indonesian)
CATALOGUE: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        # --- help ---------------------------------------------------------------------------
        "help.description": (
            "Run a regional innovation lab (Laboratorium Inovasi, 5D method) from the terminal.",
            "Jalankan Laboratorium Inovasi daerah (metode 5D) dari terminal.",
        ),
        "help.epilog": (_EXIT_CODES_EN, _EXIT_CODES_ID),
        "help.usage": ("usage: ", "pemakaian: "),
        "help.positionals": ("arguments", "argumen"),
        "help.options": ("options", "opsi"),
        "help.help": ("show this help and exit", "tampilkan bantuan ini lalu keluar"),
        "help.version": ("show labflow's version and exit", "tampilkan versi labflow lalu keluar"),
        "metavar.command": ("COMMAND", "PERINTAH"),
        "metavar.action": ("ACTION", "TINDAKAN"),
        "metavar.path": ("PATH", "BERKAS"),
        "metavar.name": ("NAME", "NAMA"),
        "metavar.id_kind": ("KIND", "JENIS"),
        "metavar.module": ("MODULE", "MODUL"),
        "metavar.actor": ("ACTOR", "PELAKU"),
        "metavar.unit": ("UNIT", "UNIT"),
        "metavar.innovation": ("INNOVATION", "INOVASI"),
        "metavar.when": ("WHEN", "WAKTU"),
        "metavar.step": ("DESC|RESPONSIBLE|YYYY-MM-DD", "URAIAN|PENANGGUNG-JAWAB|TTTT-BB-HH"),
        "metavar.policy": ("POLICY", "KEBIJAKAN"),
        "metavar.id": ("ID", "ID"),
        "metavar.text": ("TEXT", "TEKS"),
        "metavar.role": ("ROLE", "PERAN"),
        "metavar.number": ("NUMBER", "ANGKA"),
        "metavar.initiator": ("INITIATOR", "INISIATOR"),
        "metavar.base": ("BASE", "DASAR"),
        "metavar.variant": ("VARIANT", "VARIAN"),
        "metavar.date": ("YYYY-MM-DD", "TTTT-BB-HH"),
        "metavar.pair": ("KEY=VALUE", "KUNCI=NILAI"),
        # --- commands (help lines) ----------------------------------------------------------
        # A command of the command catalogue needs ``cmd.<its CLI name>`` here and
        # ``arg.<parameter>`` for each parameter of its Lab method (labflow._cli._derived);
        # tests/test_cli_derived.py lists the keys that are missing.
        "cmd.demo": (
            "create and run a sample lab (Kebumen by default) in seconds",
            "buat dan jalankan laboratorium contoh (bawaan: Kebumen) dalam hitungan detik",
        ),
        "cmd.create": (
            "create a lab from a policy, with its units and actors",
            "buat laboratorium dari sebuah kebijakan, dengan unit dan pelakunya",
        ),
        "cmd.import": (
            "import units and ideas (CSV) or a lab (JSON)",
            "impor unit dan ide (CSV) atau sebuah laboratorium (JSON)",
        ),
        "cmd.add-unit": (
            "bring a unit (agency, clinic, village, exhibitor) into the lab",
            "tambahkan unit (perangkat daerah, puskesmas, desa, peserta pameran)",
        ),
        "cmd.add-actor": (
            "bring a person into the lab with their roles",
            "tambahkan seseorang ke laboratorium beserta perannya",
        ),
        "cmd.set-roles": (
            "change an actor's roles (replace, add or remove)",
            "ubah peran seorang pelaku (ganti, tambah atau cabut)",
        ),
        "cmd.hand-over": (
            "hand a role (the facilitator's) from LAN's mentors to the region's team",
            "serahkan sebuah peran (fasilitator) dari mentor LAN kepada tim daerah",
        ),
        "cmd.actors": ("list the lab's actors and their roles", "daftar pelaku dan perannya"),
        "cmd.units": ("list the lab's units", "daftar unit laboratorium"),
        "cmd.register": ("register an idea", "daftarkan sebuah ide"),
        "cmd.diagnose": ("record the diagnosis", "catat hasil diagnosis"),
        "cmd.permit": (
            "record the unit head's written permission (civil-servant initiator)",
            "catat izin tertulis kepala unit (inisiator ASN)",
        ),
        "cmd.submit-plan": ("submit the action plan", "ajukan rencana aksi"),
        "cmd.approve-plan": ("approve the action plan", "setujui rencana aksi"),
        "cmd.draw-up-agreement": (
            "draw up the innovation performance agreement",
            "susun perjanjian kinerja inovasi",
        ),
        "cmd.sign": ("sign the performance agreement", "tandatangani perjanjian kinerja"),
        "cmd.launch": ("launch one innovation", "luncurkan satu inovasi"),
        "cmd.evidence": ("attach supporting evidence", "lampirkan bukti dukung"),
        "cmd.exhibit": ("register an exhibit at display", "daftarkan stan pameran"),
        "cmd.advance": ("move an innovation one stage on", "majukan inovasi satu tahap"),
        "cmd.return": ("send an innovation back for rework", "kembalikan inovasi untuk diperbaiki"),
        "cmd.withdraw": ("withdraw an innovation", "tarik sebuah inovasi"),
        "cmd.reinstate": (
            "reinstate a withdrawn innovation",
            "aktifkan kembali inovasi yang ditarik",
        ),
        "cmd.replicate": (
            "replicate a launched innovation, adapted to the local context",
            "replikasi inovasi yang sudah diluncurkan, disesuaikan dengan konteks setempat",
        ),
        "cmd.advance-lab": (
            "move the whole lab to its next stage",
            "majukan seluruh laboratorium ke tahap berikutnya",
        ),
        "cmd.ceremony": (
            "hold the launch ceremony for every innovation that is ready",
            "adakan upacara peluncuran bagi setiap inovasi yang siap",
        ),
        "cmd.status": (
            "the lab, or one innovation: stage and what is unmet",
            "laboratorium atau satu inovasi: tahap dan syarat yang belum terpenuhi",
        ),
        "cmd.list": ("list innovations", "daftar inovasi"),
        "cmd.history": (
            "an innovation's (or the lab's) events",
            "peristiwa sebuah inovasi (atau laboratorium)",
        ),
        "cmd.verify": (
            "verify every history's hash chain",
            "verifikasi rantai hash setiap riwayat",
        ),
        "cmd.checkpoint": (
            "seal every history's length and head in a signed file kept outside the database",
            "segel panjang dan ujung setiap riwayat dalam berkas bertanda tangan "
            "yang disimpan di luar basis data",
        ),
        "cmd.report": (
            "funnel, compliance, overdue and blocked",
            "corong, kepatuhan, keterlambatan dan inovasi tertahan",
        ),
        "cmd.export": (
            "export the lab as a JSON document or CSV, or the national index's forms",
            "ekspor laboratorium sebagai dokumen JSON atau CSV, atau formulir indeks nasional",
        ),
        "cmd.policy": (
            "list, show, validate, diagram or compare policies",
            "daftar, tampilkan, periksa, gambarkan atau bandingkan kebijakan",
        ),
        "cmd.policy-list": ("the bundled presets", "kebijakan bawaan"),
        "cmd.policy-show": ("a policy's stages and gates", "tahap dan syarat sebuah kebijakan"),
        "cmd.policy-validate": (
            "check a policy file; list every problem",
            "periksa berkas kebijakan; sebutkan setiap masalah",
        ),
        "cmd.policy-diagram": ("a Mermaid diagram of a policy", "diagram Mermaid sebuah kebijakan"),
        "cmd.policy-diff": (
            "what a variant changes from a base",
            "apa yang diubah sebuah varian dari kebijakan dasarnya",
        ),
        "cmd.set-attributes": (
            "set or change an innovation's attributes (KEY= clears one)",
            "tetapkan atau ubah atribut inovasi (KUNCI= mengosongkannya)",
        ),
        "cmd.review-agreement": (
            "record a review of the signed performance agreement (finding and outcome)",
            "catat reviu perjanjian kinerja yang sudah ditandatangani (temuan dan hasilnya)",
        ),
        "cmd.amend-agreement": (
            "draw up amended terms after a review called for them; the parties sign again",
            "susun perubahan isi perjanjian setelah reviu memintanya; para pihak menandatangani "
            "ulang",
        ),
        "cmd.open-exhibition": (
            "open an exhibition of the lab: its id, name, venue and days",
            "buka pameran laboratorium: id, nama, tempat dan harinya",
        ),
        "cmd.register-exhibitor": (
            "register an exhibitor from outside government for one exhibition",
            "daftarkan peserta pameran dari luar pemerintahan untuk satu pameran",
        ),
        "cmd.add-booth": (
            "add a booth held by a unit or an exhibitor, with what it shows",
            "tambahkan stan milik unit atau peserta pameran, beserta yang ditampilkannya",
        ),
        "cmd.close-exhibition": (
            "close an exhibition: nothing more is recorded at it",
            "tutup pameran: tidak ada lagi yang dicatat padanya",
        ),
        "cmd.record-monev": (
            "record the monitoring and evaluation (monev) of a launched innovation",
            "catat monitoring dan evaluasi (monev) inovasi yang sudah diluncurkan",
        ),
        # A command of the catalogue whose help line is not written yet.
        "cmd.missing": (
            "the {name} command (no help text yet)",
            "perintah {name} (belum ada teks bantuan)",
        ),
        "cmd.completion": (
            "print a shell completion script",
            "cetak skrip pelengkapan otomatis untuk shell",
        ),
        # --- arguments (help lines) ---------------------------------------------------------
        "arg.db": (
            "the lab database (default: {default} in the current folder; demo: {demo})",
            "basis data laboratorium (bawaan: {default} di folder ini; demo: {demo})",
        ),
        "arg.lab": (
            "the lab, when the database holds several",
            "laboratorium yang dimaksud, bila basis data memuat lebih dari satu",
        ),
        "arg.lang": (
            "language of labels and messages (also LABFLOW_LANG)",
            "bahasa label dan pesan (juga LABFLOW_LANG)",
        ),
        "arg.json": ("print JSON for scripts", "cetak JSON untuk skrip"),
        "arg.rules": (
            "a Python module (a .py file or an importable name) that registers the host "
            "requirements the policy names; may be repeated",
            "modul Python (berkas .py atau nama yang dapat diimpor) yang mendaftarkan "
            "persyaratan tuan rumah yang disebut kebijakan; boleh diulang",
        ),
        "arg.by": ("the acting actor's id", "id pelaku yang bertindak"),
        "arg.at": (
            "when it happened (YYYY-MM-DD or an ISO date and time; UTC unless given); "
            "not before the last recorded event",
            "kapan terjadinya (TTTT-BB-HH atau tanggal dan jam ISO; UTC kecuali disebut); "
            "tidak boleh sebelum peristiwa terakhir yang tercatat",
        ),
        "arg.policy": ("a preset name or a TOML file", "nama kebijakan bawaan atau berkas TOML"),
        "arg.lab_id": ("the lab's id (e.g. kebumen)", "id laboratorium (mis. kebumen)"),
        "arg.region": ("the region's name", "nama daerah"),
        "arg.units_csv": ("units: id,name,kind", "unit: id,name,kind"),
        "arg.actors_csv": (
            "actors: id,name,roles (;-separated),unit",
            "pelaku: id,name,roles (dipisah ;),unit",
        ),
        "arg.innovations_csv": (
            "ideas: id,title,unit,innovators,initiator,problem",
            "ide: id,title,unit,innovators,initiator,problem",
        ),
        "arg.lab_json": (
            "a lab document (labflow export)",
            "dokumen laboratorium (labflow export)",
        ),
        "arg.unit_id": ("the new unit's id", "id unit baru"),
        "arg.unit_name": ("the unit's name", "nama unit"),
        "arg.unit_kind": ("what kind of body it is", "jenis unit"),
        "arg.actor_id": ("the actor's id", "id pelaku"),
        "arg.actor_name": ("the person's name", "nama orang tersebut"),
        "arg.role": (
            "a role of the policy (repeat for several)",
            "peran dalam kebijakan (boleh diulang)",
        ),
        "arg.actor_unit": ("the unit they belong to", "unit tempat ia bernaung"),
        "arg.roles_set": (
            "the actor's roles from now on (repeat for several)",
            "peran pelaku mulai sekarang (boleh diulang)",
        ),
        "arg.roles_add": ("a role to give (repeatable)", "peran yang ditambahkan (boleh diulang)"),
        "arg.roles_remove": (
            "a role to take away (repeatable)",
            "peran yang dicabut (boleh diulang)",
        ),
        "arg.hand_from": (
            "who gives the role up (LAN's mentors; repeatable)",
            "yang melepas peran (mentor LAN; boleh diulang)",
        ),
        "arg.hand_to": (
            "who takes the role on (the region's team; repeatable)",
            "yang menerima peran (tim daerah; boleh diulang)",
        ),
        "arg.hand_role": (
            "the role handed over (default: facilitator)",
            "peran yang diserahkan (bawaan: facilitator)",
        ),
        "arg.innovation": ("the innovation's id", "id inovasi"),
        "arg.new_innovation": ("the new innovation's id", "id inovasi baru"),
        "arg.title": ("its title", "judulnya"),
        "arg.owning_unit": ("the unit that owns it", "unit pemiliknya"),
        "arg.innovator": ("an innovator's name (repeatable)", "nama inovator (boleh diulang)"),
        "arg.problem": ("the problem it addresses", "masalah yang hendak diatasi"),
        "arg.initiator": (
            "asn, community, regional_head or dprd (default: asn)",
            "asn, community, regional_head atau dprd (bawaan: asn)",
        ),
        "arg.cause": ("a root cause (repeatable)", "akar masalah (boleh diulang)"),
        "arg.readiness": ("the unit's readiness", "kesiapan unit"),
        "arg.reference": ("the document's reference number", "nomor dokumen"),
        "arg.step": ("a step of the plan (repeatable)", "langkah rencana aksi (boleh diulang)"),
        "arg.budget": ("the budget, in rupiah", "anggaran, dalam rupiah"),
        "arg.regional_head": ("the regional head's actor id", "id pelaku kepala daerah"),
        "arg.unit_head": ("the unit head's actor id", "id pelaku kepala unit"),
        "arg.terms": ("the agreement's terms", "isi perjanjian"),
        "arg.ceremony": ("the ceremony's name", "nama upacara peluncuran"),
        "arg.evidence_title": ("the evidence's title", "judul bukti dukung"),
        "arg.exhibition_name": ("the exhibition's name", "nama pameran"),
        "arg.exhibition": ("the exhibition (its id)", "pameran (id-nya)"),
        "arg.booth": ("the booth", "stan"),
        "arg.return_to": ("the stage it returns to", "tahap tujuan pengembalian"),
        "arg.reason": ("why", "alasannya"),
        "arg.origin": ("the innovation it replicates", "inovasi yang direplikasi"),
        "arg.adaptation": ("how it is adapted locally", "penyesuaian dengan konteks setempat"),
        "arg.origin_region": ("the origin's region, if another", "daerah asal, bila berbeda"),
        "arg.status_of": (
            "an innovation (default: the lab)",
            "sebuah inovasi (bawaan: laboratorium)",
        ),
        "arg.history_of": (
            "an innovation (default: the lab)",
            "sebuah inovasi (bawaan: laboratorium)",
        ),
        "arg.filter_stage": ("only at this stage (its id)", "hanya pada tahap ini (id tahap)"),
        "arg.filter_unit": ("only of this unit", "hanya milik unit ini"),
        "arg.filter_kind": ("only of units of this kind", "hanya milik unit berjenis ini"),
        "arg.filter_status": (
            "only active or withdrawn ones",
            "hanya yang aktif atau yang ditarik",
        ),
        "arg.blocked": (
            "only those held up by unmet items, with the reasons",
            "hanya yang tertahan, beserta alasannya",
        ),
        "arg.hashes": ("show each event's hash", "tampilkan hash setiap peristiwa"),
        "arg.checkpoint": (
            "also prove that every history sealed in this checkpoint file is unchanged",
            "buktikan juga bahwa setiap riwayat yang disegel dalam berkas titik periksa ini "
            "tidak berubah",
        ),
        "arg.checkpoint_out": (
            "the checkpoint file to write (a new file)",
            "berkas titik periksa yang ditulis (berkas baru)",
        ),
        "arg.key": (
            "the key file: HMAC key bytes, or an Ed25519 key in PEM (private to seal, "
            "public or private to verify)",
            "berkas kunci: byte kunci HMAC, atau kunci Ed25519 dalam PEM (privat untuk "
            "menyegel, publik atau privat untuk memverifikasi)",
        ),
        "arg.key_env": (
            "the environment variable holding the key (default LABFLOW_CHECKPOINT_KEY)",
            "variabel lingkungan yang memuat kunci (bawaan LABFLOW_CHECKPOINT_KEY)",
        ),
        "arg.format": (
            "json (a lab document), csv, iid (the Indeks Inovasi Daerah form as CSV), "
            "iid-json (the same as JSON) or kipp (KIPP eligibility as JSON)",
            "json (dokumen laboratorium), csv, iid (formulir Indeks Inovasi Daerah sebagai CSV), "
            "iid-json (yang sama sebagai JSON) atau kipp (kelayakan KIPP sebagai JSON)",
        ),
        "arg.html": (
            "also write the report as one self-contained HTML file",
            "tulis juga laporan sebagai satu berkas HTML mandiri",
        ),
        "arg.out": (
            "write here instead of standard output",
            "tulis ke sini, bukan ke keluaran standar",
        ),
        "arg.base": ("the base policy", "kebijakan dasar"),
        "arg.variant": ("the variant policy", "kebijakan varian"),
        "arg.attributes": (
            "an attribute the policy declares, as KEY=VALUE",
            "atribut yang dinyatakan kebijakan, sebagai KUNCI=NILAI",
        ),
        "arg.finding": ("what the review found", "temuan reviu"),
        "arg.outcome": (
            "continue, or amend to have the terms amended",
            "continue, atau amend agar isi perjanjian diubah",
        ),
        "arg.starts": ("the first day (YYYY-MM-DD)", "hari pertama (TTTT-BB-HH)"),
        "arg.ends": ("the last day (YYYY-MM-DD)", "hari terakhir (TTTT-BB-HH)"),
        "arg.venue": ("where it is held", "tempat penyelenggaraan"),
        "arg.name": ("its name", "namanya"),
        "arg.id": ("its id", "id-nya"),
        "arg.kind": (
            "the exhibitor's kind (e.g. private, community, university)",
            "jenis peserta pameran (mis. private, community, university)",
        ),
        "arg.holder": (
            "the unit or exhibitor holding the booth (its id)",
            "unit atau peserta pameran pemilik stan (id-nya)",
        ),
        "arg.services": (
            "a live service at the booth (repeatable)",
            "layanan langsung di stan (boleh diulang)",
        ),
        "arg.showcases": (
            "something else the booth shows (repeatable)",
            "hal lain yang ditampilkan stan (boleh diulang)",
        ),
        "arg.period": (
            "the period monitored (e.g. 2017-S1)",
            "periode yang dipantau (mis. 2017-S1)",
        ),
        "arg.indicators": (
            "an indicator and its value, as KEY=VALUE (repeatable)",
            "indikator dan nilainya, sebagai KUNCI=NILAI (boleh diulang)",
        ),
        "arg.findings": ("what the monitoring found", "temuan monitoring"),
        "arg.follow_up": ("the follow-up agreed", "tindak lanjut yang disepakati"),
        "arg.stakeholders": (
            "a stakeholder of the plan (repeatable)",
            "pemangku kepentingan rencana (boleh diulang)",
        ),
        "arg.documents": (
            "a supporting document of the plan (repeatable)",
            "dokumen pendukung rencana (boleh diulang)",
        ),
        "arg.expect": (
            "the stage you saw the lab at; refused if it has moved since",
            "tahap laboratorium yang Anda lihat; ditolak bila sudah berpindah",
        ),
        # An argument of a catalogue command whose help line is not written yet.
        "arg.missing": (
            "the {name} argument (no help text yet)",
            "argumen {name} (belum ada teks bantuan)",
        ),
        "arg.shell": (
            "the shell: bash or zsh (ids: the lab's ids, for the completion script)",
            "shell: bash atau zsh (ids: id laboratorium, untuk skrip pelengkapan)",
        ),
        "arg.completion_ids": (
            "with ids: which ids (innovation, actor or unit)",
            "dengan ids: jenis id yang didaftar, untuk skrip pelengkapan (lihat docs/cli.md)",
        ),
        # --- usage errors -------------------------------------------------------------------
        "usage.error": ("error", "galat"),
        "usage.required": (
            "the following arguments are required: {names}",
            "argumen berikut wajib diisi: {names}",
        ),
        "usage.unrecognized": ("unrecognised arguments: {names}", "argumen tidak dikenal: {names}"),
        "usage.expected_one": ("{name} needs a value", "{name} memerlukan sebuah nilai"),
        "usage.invalid_value": (
            "{name} does not take {value}",
            "{name} tidak menerima {value}",
        ),
        "usage.ambiguous": (
            "{name} is ambiguous: it could be {names}",
            "{name} bermakna ganda: bisa {names}",
        ),
        "usage.exclusive": (
            "{name} cannot be used with {other}",
            "{name} tidak boleh dipakai bersama {other}",
        ),
        "usage.argument": ("argument {name}: {text}", "argumen {name}: {text}"),
        "usage.invalid_choice": (
            "'{value}' is not one of: {choices}",
            "'{value}' bukan salah satu dari: {choices}",
        ),
        "usage.did_you_mean": (
            "'{value}' is not one of: {choices}. Did you mean '{close}'?",
            "'{value}' bukan salah satu dari: {choices}. Maksud Anda '{close}'?",
        ),
        # --- words: table heads and labels --------------------------------------------------
        "word.innovation": ("Innovation", "Inovasi"),
        "word.innovations": ("Innovations", "Inovasi"),
        "word.title": ("Title", "Judul"),
        "word.unit": ("Unit", "Unit"),
        "word.kind": ("Kind", "Jenis"),
        "word.stage": ("Stage", "Tahap"),
        "word.stages": ("Stages", "Tahap"),
        "word.status": ("Status", "Status"),
        "word.launched": ("Launched", "Diluncurkan"),
        "word.version": ("Version", "Versi"),
        "word.reasons": ("Reasons", "Alasan"),
        "word.next": ("Next", "Berikutnya"),
        "word.review": ("Review", "Reviu ke-"),
        "word.due": ("Due", "Jatuh tempo"),
        "word.missed": ("Rounds missed", "Putaran terlewat"),
        "word.latest": ("Latest findings", "Temuan terakhir"),
        "word.total": ("Total", "Jumlah"),
        "word.reached": ("At or past", "Sampai/lewat"),
        "word.seq": ("#", "#"),
        "word.at": ("At", "Waktu"),
        "word.actor": ("Actor", "Pelaku"),
        "word.name": ("Name", "Nama"),
        "word.roles": ("Roles", "Peran"),
        "word.event": ("Event", "Peristiwa"),
        "word.details": ("Details", "Rincian"),
        "word.hash": ("Hash", "Hash"),
        "word.deadline": ("Deadline", "Batas waktu"),
        "word.lab": ("Lab", "Laboratorium"),
        "word.policy": ("Policy", "Kebijakan"),
        "word.region": ("Region", "Daerah"),
        "word.id": ("Id", "Id"),
        "word.gate": ("Gate", "Syarat tahap"),
        "word.cohort": ("Cohort conditions", "Syarat kelompok"),
        "word.yes": ("yes", "ya"),
        "word.no": ("no", "tidak"),
        "word.verifying": ("Verifying every history", "Memverifikasi setiap riwayat"),
        "word.loading": ("Reading the lab's histories", "Membaca riwayat laboratorium"),
        "word.saving": ("Writing to the database", "Menulis ke basis data"),
        "word.adding_units": ("Adding units", "Menambahkan unit"),
        "word.registering_ideas": ("Registering ideas", "Mendaftarkan ide"),
        "word.per_second": ("/s", "/dtk"),
        "status.active": ("active", "aktif"),
        "status.withdrawn": ("withdrawn", "ditarik"),
        "kind.agency": ("agency", "OPD"),
        "kind.clinic": ("clinic", "puskesmas"),
        "kind.hospital": ("hospital", "RSUD"),
        "kind.enterprise": ("enterprise", "BUMD"),
        "kind.district": ("district", "kecamatan"),
        "kind.village": ("village", "desa/kelurahan"),
        "kind.community": ("community", "komunitas"),
        "kind.private": ("private sector", "swasta"),
        "kind.academia": ("academia", "perguruan tinggi"),
        "kind.vertical": ("vertical agency", "instansi vertikal"),
        "kind.unknown": ("unknown", "tidak diketahui"),
        "what.innovation": ("innovation", "inovasi"),
        "what.actor": ("actor", "pelaku"),
        "what.unit": ("unit", "unit"),
        "what.stage": ("stage", "tahap"),
        "what.role": ("role", "peran"),
        "what.lab": ("lab", "laboratorium"),
        # --- events -------------------------------------------------------------------------
        "event.lab.created": ("lab created", "laboratorium dibuat"),
        "event.lab.unit_added": ("unit added", "unit ditambahkan"),
        "event.lab.actor_added": ("actor added", "pelaku ditambahkan"),
        "event.lab.roles_set": ("roles changed", "peran diubah"),
        "event.lab.advanced": ("lab advanced", "laboratorium maju tahap"),
        "event.lab.ceremony_held": ("launch ceremony held", "upacara peluncuran diadakan"),
        "event.innovation.registered": ("idea registered", "ide didaftarkan"),
        "event.innovation.replicated": ("replication registered", "replikasi didaftarkan"),
        "event.innovation.diagnosis_recorded": ("diagnosis recorded", "diagnosis dicatat"),
        "event.innovation.permission_granted": ("permission granted", "izin diberikan"),
        "event.innovation.plan_submitted": ("action plan submitted", "rencana aksi diajukan"),
        "event.innovation.plan_approved": ("action plan approved", "rencana aksi disetujui"),
        "event.innovation.agreement_drawn_up": (
            "agreement drawn up",
            "perjanjian kinerja disusun",
        ),
        "event.innovation.agreement_signed": (
            "agreement signed",
            "perjanjian kinerja ditandatangani",
        ),
        "event.innovation.launched": ("launched", "diluncurkan"),
        "event.innovation.evidence_attached": ("evidence attached", "bukti dukung dilampirkan"),
        "event.innovation.exhibit_registered": ("exhibit registered", "stan pameran didaftarkan"),
        "event.innovation.advanced": ("advanced", "maju tahap"),
        "event.innovation.returned": ("returned for rework", "dikembalikan untuk diperbaiki"),
        "event.innovation.withdrawn": ("withdrawn", "ditarik"),
        "event.innovation.reinstated": ("reinstated", "diaktifkan kembali"),
        "event.innovation.agreement_reviewed": ("agreement reviewed", "perjanjian kinerja direviu"),
        "event.innovation.agreement_amended": ("agreement amended", "perjanjian kinerja diubah"),
        "event.innovation.attributes_set": ("attributes set", "atribut ditetapkan"),
        "event.innovation.monitored": ("monev recorded", "monev dicatat"),
        "event.lab.exhibition_opened": ("exhibition opened", "pameran dibuka"),
        "event.lab.exhibitor_registered": ("exhibitor registered", "peserta pameran didaftarkan"),
        "event.lab.booth_added": ("booth added", "stan ditambahkan"),
        "event.lab.exhibition_closed": ("exhibition closed", "pameran ditutup"),
        # --- what an actor may not do -------------------------------------------------------
        "action.add_unit": ("add a unit", "menambahkan unit"),
        "action.add_actor": ("add an actor", "menambahkan pelaku"),
        "action.set_roles": ("change roles", "mengubah peran"),
        "action.advance_lab": ("advance the lab", "memajukan laboratorium"),
        "action.launch_cohort": ("hold the launch ceremony", "mengadakan upacara peluncuran"),
        "action.register": ("register an idea", "mendaftarkan ide"),
        "action.replicate": ("register a replication", "mendaftarkan replikasi"),
        "action.record_diagnosis": ("record a diagnosis", "mencatat diagnosis"),
        "action.submit_plan": ("submit an action plan", "mengajukan rencana aksi"),
        "action.approve_plan": ("approve an action plan", "menyetujui rencana aksi"),
        "action.draw_up_agreement": (
            "draw up a performance agreement",
            "menyusun perjanjian kinerja",
        ),
        "action.sign_agreement": (
            "sign a performance agreement",
            "menandatangani perjanjian kinerja",
        ),
        "action.grant_permission": ("grant permission", "memberi izin"),
        "action.record_launch": ("record a launch", "mencatat peluncuran"),
        "action.attach_evidence": ("attach evidence", "melampirkan bukti dukung"),
        "action.register_exhibit": ("register an exhibit", "mendaftarkan stan pameran"),
        "action.advance": ("advance an innovation", "memajukan inovasi"),
        "action.return_to": ("return an innovation", "mengembalikan inovasi"),
        "action.withdraw": ("withdraw an innovation", "menarik inovasi"),
        "action.reinstate": ("reinstate an innovation", "mengaktifkan kembali inovasi"),
        "action.return": ("return an innovation", "mengembalikan inovasi"),
        "action.review_agreement": (
            "review a performance agreement",
            "mereviu perjanjian kinerja",
        ),
        "action.amend_agreement": (
            "amend a performance agreement",
            "mengubah perjanjian kinerja",
        ),
        "action.set_attributes": ("set an innovation's attributes", "menetapkan atribut inovasi"),
        "action.open_exhibition": ("open an exhibition", "membuka pameran"),
        "action.register_exhibitor": (
            "register an exhibitor",
            "mendaftarkan peserta pameran",
        ),
        "action.add_booth": ("add a booth", "menambahkan stan"),
        "action.close_exhibition": ("close an exhibition", "menutup pameran"),
        "action.record_monev": ("record monev", "mencatat monev"),
        # --- verdicts -----------------------------------------------------------------------
        "verdict.ok": (
            "{subject} meets every requirement for {stage}.",
            "{subject} memenuhi semua syarat untuk {stage}.",
        ),
        "verdict.cannot_advance": (
            "{subject} cannot advance to {stage}:",
            "{subject} belum dapat maju ke {stage}:",
        ),
        "verdict.cannot_launch": (
            "{subject} cannot be launched at {stage}:",
            "{subject} belum dapat diluncurkan pada {stage}:",
        ),
        "verdict.lab_cannot_advance": (
            "The lab {subject} cannot advance to {stage}:",
            "Laboratorium {subject} belum dapat maju ke {stage}:",
        ),
        "verdict.final": (
            "{subject} is at the last stage ({stage}); there is no stage after it.",
            "{subject} sudah berada di tahap terakhir ({stage}); tidak ada tahap sesudahnya.",
        ),
        "verdict.final_lab": (
            "The lab {subject} is at its last stage ({stage}); there is no stage after it.",
            "Laboratorium {subject} sudah berada di tahap terakhir ({stage}); "
            "tidak ada tahap sesudahnya.",
        ),
        # --- what was done ------------------------------------------------------------------
        "done.recorded": (
            "Recorded: {subject} #{seq} {event} ({at})",
            "Tercatat: {subject} #{seq} {event} ({at})",
        ),
        "done.created": (
            "Lab {lab} created ({policy}; {units} {units|unit|units}, "
            "{actors} {actors|actor|actors}): {db}",
            "Laboratorium {lab} dibuat ({policy}; {units} unit, {actors} pelaku): {db}",
        ),
        "done.imported_lab": (
            "Lab {lab} imported with {n} {n|innovation|innovations}.",
            "Laboratorium {lab} diimpor dengan {n} inovasi.",
        ),
        "done.imported": (
            "Recorded: {units} {units|unit|units}, {n} {n|idea|ideas}.",
            "Tercatat: {units} unit, {n} ide.",
        ),
        "done.ceremony": (
            "{n} {n|innovation|innovations} launched, {refused} refused.",
            "{n} inovasi diluncurkan, {refused} ditolak.",
        ),
        "done.verified": (
            "✓ {n} {n|history|histories} verified ({events} {events|event|events}).",
            "✓ {n} riwayat terverifikasi ({events} peristiwa).",
        ),
        "done.unverified": (
            "✗ {n} {n|history|histories} checked ({events} {events|event|events}); "
            "not every one verifies.",
            "✗ {n} riwayat diperiksa ({events} peristiwa); tidak semuanya terverifikasi.",
        ),
        "done.valid": (
            "✓ {policy} is valid ({n} {n|stage|stages}).",
            "✓ {policy} sah ({n} tahap).",
        ),
        "done.sealed": (
            "✓ Sealed {n} {n|history|histories} of {labs} {labs|lab|labs} "
            "({events} {events|event|events}) into {path}.",
            "✓ {n} riwayat dari {labs} laboratorium ({events} peristiwa) disegel ke {path}.",
        ),
        "done.sealed_root": (
            "Merkle root ({algorithm}): {root}\n"
            "Keep the file away from the database; check it with: "
            "labflow verify --checkpoint {path}",
            "Akar Merkle ({algorithm}): {root}\n"
            "Simpan berkas ini jauh dari basis data; periksa dengan: "
            "labflow verify --checkpoint {path}",
        ),
        "done.checkpoint_holds": (
            "✓ The checkpoint of {made_at} holds: {n} sealed {n|history|histories} "
            "unchanged (Merkle root {root}).",
            "✓ Titik periksa {made_at} terpenuhi: {n} riwayat yang disegel tidak berubah "
            "(akar Merkle {root}).",
        ),
        "checkpoint.broken": (
            "✗ The checkpoint of {made_at} does not hold: "
            "{n} {n|problem|problems} since it was sealed:",
            "✗ Titik periksa {made_at} tidak terpenuhi: {n} masalah sejak disegel:",
        ),
        "checkpoint.lab_vanished": (
            "the lab {lab} has vanished from the database",
            "laboratorium {lab} telah hilang dari basis data",
        ),
        "checkpoint.vanished": (
            "the history of {subject} (lab {lab}) has vanished; "
            "it held {sealed} {sealed|event|events} when sealed",
            "riwayat {subject} (laboratorium {lab}) telah hilang; "
            "saat disegel riwayat itu berisi {sealed} peristiwa",
        ),
        "checkpoint.cut": (
            "the history of {subject} (lab {lab}) was cut: it holds {held} "
            "{held|event|events}, {sealed} were sealed",
            "riwayat {subject} (laboratorium {lab}) telah dipotong: kini berisi {held} "
            "peristiwa, padahal {sealed} peristiwa disegel",
        ),
        "checkpoint.rewritten": (
            "the history of {subject} (lab {lab}) was rewritten: "
            "its event {sealed} is not the one sealed",
            "riwayat {subject} (laboratorium {lab}) telah ditulis ulang: "
            "peristiwa ke-{sealed} bukan yang disegel",
        ),
        "checkpoint.unverified": (
            "the history of {subject} (lab {lab}) does not verify at event {seq}: {reason}",
            "riwayat {subject} (laboratorium {lab}) tidak terverifikasi pada peristiwa "
            "{seq}: {reason}",
        ),
        "list.total": (
            "{n} {n|innovation|innovations}",
            "{n} inovasi",
        ),
        "list.actors": ("{n} {n|actor|actors}", "{n} pelaku"),
        "list.units": ("{n} {n|unit|units}", "{n} unit"),
        # --- the report ---------------------------------------------------------------------
        "report.funnel": (
            "Funnel by stage and unit kind — {region}",
            "Corong per tahap dan jenis unit — {region}",
        ),
        "report.totals": (
            "Withdrawn: {withdrawn}   Total: {n} {n|innovation|innovations}",
            "Ditarik: {withdrawn}   Jumlah: {n} inovasi",
        ),
        "report.compliance": (
            "{n} {n|unit has|units have} no innovation at or past {stage}",
            "{n} unit belum memiliki inovasi pada atau setelah tahap {stage}",
        ),
        "report.overdue": (
            "Overdue ({n} {n|innovation|innovations})",
            "Terlambat ({n} inovasi)",
        ),
        "report.overdue_reviews": (
            "Agreement reviews overdue ({n} {n|innovation|innovations})",
            "Reviu perjanjian kinerja yang terlambat ({n} inovasi)",
        ),
        "report.overdue_monev": (
            "Monev overdue ({n} {n|innovation|innovations})",
            "Monev yang terlambat ({n} inovasi)",
        ),
        "report.blocked": (
            "Blocked innovations ({n})",
            "Inovasi yang tertahan ({n})",
        ),
        "report.none_blocked": ("No innovation is blocked.", "Tidak ada inovasi yang tertahan."),
        # --- the demo -----------------------------------------------------------------------
        "demo.title": (
            "labflow demo — {region} (policy: {policy})",
            "demo labflow — {region} (kebijakan: {policy})",
        ),
        "demo.ceremony": (
            "{ceremony}: {n} {n|innovation|innovations} launched.",
            "{ceremony}: {n} inovasi diluncurkan.",
        ),
        "demo.database": (
            "Database: {path}  (took {seconds} s)",
            "Basis data: {path}  (selesai dalam {seconds} dtk)",
        ),
        "demo.next": (
            "Next: labflow list --db {db} --blocked   ·   labflow report --db {db}",
            "Selanjutnya: labflow list --db {db} --blocked   ·   labflow report --db {db}",
        ),
        "demo.registering": ("Registering ideas", "Mendaftarkan ide"),
        "demo.preparing": ("Preparing: {stage}", "Menyiapkan: {stage}"),
        "demo.advancing": ("Advancing to {stage}", "Maju ke {stage}"),
        "demo.preparing_launch": ("Preparing the launch", "Menyiapkan peluncuran"),
        "demo.exhibits": ("Registering exhibits", "Mendaftarkan stan pameran"),
        # --- errors -------------------------------------------------------------------------
        "error.did_you_mean": (" Did you mean '{close}'?", " Maksud Anda '{close}'?"),
        "error.not_found": (
            "There is no {what} '{id}' in lab {lab}.",
            "Tidak ada {what} '{id}' di laboratorium {lab}.",
        ),
        "error.no_lab": (
            "There is no lab '{lab}' in {db}; it holds {n|lab|labs}: {labs}.",
            "Tidak ada laboratorium '{lab}' di {db}; isinya: {labs}.",
        ),
        "error.empty_db": (
            "The database {db} holds no lab yet; create one first.",
            "Basis data {db} belum memuat laboratorium; buat dulu.",
        ),
        "error.several_labs": (
            "The database {db} holds several labs ({labs}); pick one with --lab.",
            "Basis data {db} memuat beberapa laboratorium ({labs}); pilih dengan --lab.",
        ),
        "error.not_utf8": (
            "The argument '{value}' is not UTF-8 text; "
            "labflow reads every argument but a file name as UTF-8.",
            "Argumen '{value}' bukan teks UTF-8; "
            "labflow membaca setiap argumen selain nama berkas sebagai UTF-8.",
        ),
        "error.not_utf8_of": (
            "The argument '{value}' (the value of {option}) is not UTF-8 text; "
            "labflow reads every argument but a file name as UTF-8.",
            "Argumen '{value}' (nilai {option}) bukan teks UTF-8; "
            "labflow membaca setiap argumen selain nama berkas sebagai UTF-8.",
        ),
        "error.bad_at": (
            "--at {value} is not a date (YYYY-MM-DD) or an ISO date and time.",
            "--at {value} bukan tanggal (TTTT-BB-HH) atau tanggal dan jam ISO.",
        ),
        "error.at_future": (
            "--at {at} is in the future; record what has happened.",
            "--at {at} ada di masa depan; catat yang sudah terjadi.",
        ),
        "error.at_order": (
            "--at {at} comes before the last event of {subject} ({last}); "
            "a history is kept in the order things happened.",
            "--at {at} lebih awal daripada peristiwa terakhir {subject} ({last}); "
            "riwayat dicatat menurut urutan kejadian.",
        ),
        "error.not_utf8_file": (
            "Cannot read {path}: byte {byte} is not UTF-8 text.",
            "Tidak dapat membaca {path}: bita ke-{byte} bukan teks UTF-8.",
        ),
        "error.unreadable": (
            "Cannot read {path}: {reason}.",
            "Tidak dapat membaca {path}: {reason}.",
        ),
        "error.unwritable": (
            "Cannot write {path}: {reason}.",
            "Tidak dapat menulis {path}: {reason}.",
        ),
        "error.too_large": (
            "{path} is larger than {mib} MiB, the most labflow reads from such a file; "
            "nothing was read.",
            "{path} lebih besar dari {mib} MiB, batas berkas seperti ini bagi labflow; "
            "tidak ada yang dibaca.",
        ),
        "error.checkpoint_exists": (
            "{path} already exists; a checkpoint is never written over another: pick a new --out.",
            "{path} sudah ada; titik periksa tidak pernah menimpa yang lain: pilih --out baru.",
        ),
        "error.not_checkpoint": (
            "{path} is not a labflow checkpoint: {reason}",
            "{path} bukan titik periksa labflow (rincian: {reason})",
        ),
        "error.checkpoint_forged": (
            "The checkpoint {path} was altered or the key is not the one that sealed it: "
            "its signature does not hold, so nothing in it can be trusted.",
            "Titik periksa {path} telah diubah atau kuncinya bukan kunci penyegelnya: "
            "tanda tangannya tidak sah, sehingga isinya tidak dapat dipercaya.",
        ),
        "error.no_key": (
            "Give the key: --key FILE, --key-env NAME, or set LABFLOW_CHECKPOINT_KEY.",
            "Berikan kuncinya: --key BERKAS, --key-env NAMA, atau atur LABFLOW_CHECKPOINT_KEY.",
        ),
        "error.key_env_unset": (
            "The environment variable {name} is not set; it should hold the key.",
            "Variabel lingkungan {name} belum diatur; variabel itu semestinya memuat kunci.",
        ),
        "error.key_short": (
            "An HMAC key must be at least 16 bytes long; this one has {n}.",
            "Kunci HMAC paling sedikit 16 byte; kunci ini {n} byte.",
        ),
        "error.key_too_large": (
            "{path} is far too large to be a key.",
            "{path} terlalu besar untuk sebuah kunci.",
        ),
        "error.key_unreadable": (
            "The key is PEM but not an Ed25519 key labflow can use: {reason}",
            "Kunci ini PEM tetapi bukan kunci Ed25519 yang dapat dipakai labflow "
            "(rincian: {reason})",
        ),
        "error.key_public_only": (
            "Sealing needs the Ed25519 private key; this is the public key "
            "(the public key verifies).",
            "Penyegelan memerlukan kunci privat Ed25519; ini kunci publik "
            "(kunci publik untuk memverifikasi).",
        ),
        "error.key_kind": (
            "The checkpoint is sealed with {algorithm}; give {wanted}.",
            "Titik periksa ini disegel dengan {algorithm}; berikan {wanted}.",
        ),
        "key.hmac": ("its HMAC key", "kunci HMAC-nya"),
        "key.ed25519": ("the Ed25519 public key", "kunci publik Ed25519"),
        "error.no_cryptography": (
            'Ed25519 keys need the sign extra: pip install "labflow[sign]".',
            'Kunci Ed25519 memerlukan tambahan sign: pip install "labflow[sign]".',
        ),
        "error.rules": (
            "The rules module {module} could not be loaded: {reason}.",
            "Modul aturan {module} tidak dapat dimuat: {reason}.",
        ),
        "error.plugin": (
            "The rules plugin {plugin} (installed by {dist}) could not be loaded: {reason}.",
            "Plugin aturan {plugin} (dipasang oleh {dist}) tidak dapat dimuat: {reason}.",
        ),
        "error.rules_missing": (
            "The rules module {module} was not found: it is neither a file nor a module "
            "Python can import.",
            "Modul aturan {module} tidak ditemukan: bukan berkas, bukan pula modul yang dapat "
            "diimpor Python.",
        ),
        "error.file": (
            "A file could not be used{where}: {reason}.",
            "Sebuah berkas tidak dapat dipakai{where}: {reason}.",
        ),
        "error.lab_taken": (
            "The database {db} already holds a lab '{lab}'; pick another id, or another --db.",
            "Basis data {db} sudah memuat laboratorium '{lab}'; pilih id lain, atau --db lain.",
        ),
        "error.no_one_can_act": (
            "The lab {lab} would have no one to act in it: give --actors, "
            "with someone holding one of the roles {roles} (to add the others later).",
            "Laboratorium {lab} tidak akan punya pelaku: berikan --actors, "
            "dengan seseorang yang memegang salah satu peran {roles} (untuk menambah yang lain).",
        ),
        "error.founder_unknown": (
            "--by {actor} is not one of the actors given with --actors.",
            "--by {actor} tidak termasuk pelaku yang diberikan dengan --actors.",
        ),
        "error.nothing_to_import": (
            "Nothing to import: give --units, --innovations or --lab-json.",
            "Tidak ada yang diimpor: berikan --units, --innovations atau --lab-json.",
        ),
        "error.no_roles_change": (
            "Say which roles: --role (replace), --add or --remove.",
            "Sebutkan perannya: --role (ganti), --add atau --remove.",
        ),
        "error.roles_unchanged": (
            "{actor} already has exactly these roles; nothing to record.",
            "{actor} sudah memegang peran tersebut; tidak ada yang dicatat.",
        ),
        "error.does_not_hold": (
            "{actor} does not hold the role {role}; there is nothing to hand over.",
            "{actor} tidak memegang peran {role}; tidak ada yang diserahkan.",
        ),
        "error.hand_to_self": (
            "{actor} cannot both give up and take on the role.",
            "{actor} tidak dapat sekaligus melepas dan menerima peran.",
        ),
        "error.bad_pair": (
            "'{pair}' must read KEY=VALUE.",
            "'{pair}' harus berbentuk KUNCI=NILAI.",
        ),
        "error.unsupported_argument": (
            "The command {command} cannot take its argument {name} from the command line.",
            "Perintah {command} tidak dapat menerima argumen {name} dari baris perintah.",
        ),
        "error.bad_step": (
            "The step '{step}' must read DESCRIPTION|RESPONSIBLE|YYYY-MM-DD.",
            "Langkah '{step}' harus berbentuk URAIAN|PENANGGUNG-JAWAB|TTTT-BB-HH.",
        ),
        "error.bad_step_date": (
            "The step '{step}' has no valid due date (YYYY-MM-DD).",
            "Langkah '{step}' tidak memiliki tenggat yang sah (TTTT-BB-HH).",
        ),
        "error.demo_exists": (
            "{path} already exists; the demo writes a new database: pick another --db.",
            "{path} sudah ada; demo menulis basis data baru: pilih --db lain.",
        ),
        "error.denied": (
            "{actor} may not {action}: {reason}.",
            "{actor} tidak boleh {action}: {reason}.",
        ),
        "error.denied_role": (
            "{actor} may not {action}: it takes one of the roles {roles}.",
            "{actor} tidak boleh {action}: perlu salah satu peran {roles}.",
        ),
        "error.denied_unit": (
            "{actor} may not {action} here: as {roles} they act only within their own unit.",
            "{actor} tidak boleh {action} di sini: sebagai {roles} ia hanya bertindak "
            "di unitnya sendiri.",
        ),
        "error.conflict": (
            "{subject} was changed by another writer (version {expected} expected, "
            "{found} found); nothing was written. Try again.",
            "{subject} diubah oleh penulis lain (versi {expected} diharapkan, "
            "ditemukan {found}); tidak ada yang ditulis. Coba lagi.",
        ),
        "reason.hash": (
            "its content does not match its hash",
            "isinya tidak cocok dengan hash-nya",
        ),
        "reason.link": (
            "it does not link to the event before it",
            "peristiwa ini tidak tertaut ke peristiwa sebelumnya",
        ),
        "reason.position": (
            "it says it is event {said}, but it stands at {at}",
            "peristiwa ini mengaku ke-{said}, padahal berada di urutan {at}",
        ),
        "reason.head": (
            "it does not end at the expected head",
            "riwayat ini tidak berakhir di ujung yang tercatat",
        ),
        "reason.gone": (
            "its stored events are gone",
            "peristiwa tersimpannya telah hilang",
        ),
        "reason.row_only": (
            "it has a stored row but no history",
            "ada baris tersimpannya tetapi tidak ada riwayatnya",
        ),
        "reason.row": (
            "its stored row says {details}",
            "baris tersimpannya menyatakan {details}",
        ),
        "reason.row_item": (
            "{field} {stored} where its history gives {given}",
            "{field} {stored}, padahal riwayatnya menyatakan {given}",
        ),
        "warning.unverified": (
            "⚠ The history of {subject} does not verify at event {seq}: {reason}.",
            "⚠ Riwayat {subject} tidak terverifikasi pada peristiwa {seq}: {reason}.",
        ),
        "warning.unverified_whole": (
            "⚠ The history of {subject} does not verify: {reason}.",
            "⚠ Riwayat {subject} tidak terverifikasi: {reason}.",
        ),
        "warning.answer_anyway": (
            "⚠ The database was tampered with. What follows is read from the events that "
            "still verify, and is not the whole record (exit code 5); nothing can be "
            "written to this lab.",
            "⚠ Basis data ini telah diubah. Keterangan berikut dibaca dari peristiwa yang "
            "masih terverifikasi dan bukan catatan lengkap (kode keluar 5); laboratorium ini "
            "tidak dapat ditulisi.",
        ),
        "warning.as_stored": (
            "⚠ The database was tampered with. What follows is the events as stored, the "
            "failing one included (exit code 5); nothing can be written to this lab.",
            "⚠ Basis data ini telah diubah. Berikut peristiwa sebagaimana tersimpan, termasuk "
            "yang gagal (kode keluar 5); laboratorium ini tidak dapat ditulisi.",
        ),
        "error.unverified": (
            "The history of {subject} does not verify at event {seq}: {reason}.",
            "Riwayat {subject} tidak terverifikasi pada peristiwa {seq}: {reason}.",
        ),
        "error.unverified_whole": (
            "The history of {subject} does not verify: {reason}.",
            "Riwayat {subject} tidak terverifikasi: {reason}.",
        ),
        "error.db_unopenable": (
            "The database {db} cannot be opened: {reason}.",
            "Basis data {db} tidak dapat dibuka: {reason}.",
        ),
        "error.db_unreplaceable": (
            "The database {db} cannot be replaced: {reason}.",
            "Basis data {db} tidak dapat diganti: {reason}.",
        ),
        "error.db_missing": (
            "There is no labflow database at {db}; create a lab first (labflow create) "
            "or give --db.",
            "Tidak ada basis data labflow di {db}; buat laboratorium dulu (labflow create) "
            "atau berikan --db.",
        ),
        "error.db_locked": (
            "The database {db} is locked by another writer; try again shortly.",
            "Basis data {db} sedang dikunci penulis lain; coba lagi sebentar lagi.",
        ),
        "error.db_too_new": (
            "The database {db} was written by a newer labflow; upgrade labflow to open it.",
            "Basis data {db} ditulis oleh labflow yang lebih baru; perbarui labflow.",
        ),
        "error.db_corrupt": (
            "The database {db} is damaged or not a labflow database: {reason}",
            "Basis data {db} rusak atau bukan basis data labflow (rincian: {reason})",
        ),
        "error.policy_invalid": (
            "The policy {what} is invalid ({n} {n|problem|problems}):",
            "Kebijakan {what} tidak sah ({n} masalah):",
        ),
        "error.document_invalid": (
            "The {what} document is malformed ({n} {n|problem|problems}):",
            "Dokumen {what} rusak ({n} masalah):",
        ),
        "error.no_rich": (
            "The command draws with Rich, which is not installed: "
            'pip install "labflow[cli]" (or uv run --extra cli labflow ...).',
            "Perintah ini menggambar dengan Rich, yang belum terpasang: "
            'pip install "labflow[cli]" (atau uv run --extra cli labflow ...).',
        ),
        "error.interrupted": (
            "interrupted; nothing more was written.",
            "dihentikan; tidak ada lagi yang ditulis.",
        ),
        "csv.unknown_role": (
            "'{role}' is not a role of the policy {policy} ({roles})",
            "'{role}' bukan peran dalam kebijakan {policy} ({roles})",
        ),
        "csv.unit_kind": (
            "the unit kind '{kind}' is not one the policy {policy} allows ({kinds})",
            "jenis unit '{kind}' tidak diizinkan kebijakan {policy} ({kinds})",
        ),
        "csv.unit_exists": (
            "the unit '{unit}' is already in the lab",
            "unit '{unit}' sudah ada di laboratorium",
        ),
        "csv.initiator": (
            "the initiator '{initiator}' is not one the policy {policy} allows ({kinds})",
            "inisiator '{initiator}' tidak diizinkan kebijakan {policy} ({kinds})",
        ),
        "csv.innovation_exists": (
            "the innovation '{innovation}' is already registered in the lab",
            "inovasi '{innovation}' sudah terdaftar di laboratorium",
        ),
        "csv.unknown_unit": (
            "the unit '{unit}' is not among the lab's units",
            "unit '{unit}' tidak termasuk unit laboratorium",
        ),
    }
)


def has(key: str) -> bool:
    """Whether the catalogue has ``key``."""
    return key in CATALOGUE


def _plural(params: Mapping[str, Any]) -> Any:
    def choose(match: re.Match[str]) -> str:
        return match.group(2) if params.get(match.group(1)) == 1 else match.group(3)

    return choose


def message(key: str, lang: str = "en", /, **params: Any) -> str:
    """The message ``key`` in ``lang`` (``en`` or ``id``), ``params`` filled in."""
    en, id_ = CATALOGUE[key]
    text = id_ if lang == "id" else en
    if "|" in text:
        text = _PLURAL.sub(_plural(params), text)
    return text.format(**params) if params else text
