// The CyberTipline report for one golden fixture, built by an independent implementation
// (npm @civitai/cybertipline-tools, pinned in package.json): `node build.mjs FIXTURE.json`
// prints the package's XML for the fixture's draft. The golden test
// (crates/samaritan-server/tests/cybertip_golden.rs) compares it, as a tree, with ours.
//
// A fixture is {"description", "prior_reports": [ids], "draft": {...}}, the draft in the shape
// `reports::draft` produces. This script maps the draft's fields to the package's types; the
// package decides element names, nesting, order and attributes.
//
// What a caller of the package must do itself (the package does none of it):
// - Escape values. Its report serializer writes text as given (no entity escaping), so every
//   string is handed over escaped; its own round trip through its XML parser keeps that.
// - Drop characters XML 1.0 forbids, and cut to the limits, counting characters (code points),
//   not UTF-16 units: the API's documented ones (../shared/notes/ncmec.md:
//   escalateToHighPriority and incidentDateTimeDescription 3000, legalURL 2083), and 3000 for
//   every additionalInfo, as Samaritan chooses. Other values in the fixtures are short.
// - Avoid values its parser would change: in every element but the report's own
//   additionalInfo, leading and trailing whitespace is trimmed and number-like text is reparsed
//   as a number (so leading zeros and exponents are lost). No fixture value is changed so.
// The two texts Samaritan composes (escalateToHighPriority from the stated ages, the report's
// additionalInfo from the evidence) are composed here with the same wording as xml.rs.

import { readFileSync } from 'node:fs';
import { buildReport } from '@civitai/cybertipline-tools';

const TEXT_LIMIT = 3000;
const URL_LIMIT = 2083;

const PACKAGE = '@civitai/cybertipline-tools';

function fail(message) {
  process.stderr.write(`build.mjs: ${message}\n`);
  process.exit(2);
}

// The installed package must be the pinned one (npm ci, not a stale node_modules).
{
  const json = (rel) => JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8'));
  const pinned = json('./package.json').dependencies[PACKAGE];
  const installed = json(`./node_modules/${PACKAGE}/package.json`).version;
  if (installed !== pinned) {
    fail(`${PACKAGE} ${installed} is installed, package.json pins ${pinned}: run npm ci --prefix tests/cybertip-golden`);
  }
}

/** A character XML 1.0 allows (the Char production). */
function allowed(cp) {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    cp >= 0x10000
  );
}

/** `s` without the characters XML forbids, cut to `max` characters, escaped for XML. */
function value(s, max = Infinity) {
  let out = '';
  let n = 0;
  for (const ch of s) {
    if (n >= max) break;
    if (!allowed(ch.codePointAt(0))) continue;
    n += 1;
    out += ch;
  }
  return out
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** The string at `v` when it is one with something besides whitespace. */
function present(v) {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

function strings(v) {
  return Array.isArray(v) ? v.filter((s) => typeof s === 'string') : [];
}

function mapDraft(draft, priorReports) {
  const summary = draft.incident_summary ?? {};
  const details = draft.internet_details ?? {};
  const user = draft.person_or_user_reported ?? {};
  const reporter = draft.reporter ?? {};
  const evidence = draft.evidence ?? {};

  const incidentType = present(summary.incident_type);
  const when = present(summary.incident_date_time);
  const email = present(reporter.email);
  if (!incidentType || !when || !email) fail('the draft is not fileable');

  const ages = (Array.isArray(evidence.stated_ages) ? evidence.stated_ages : []).filter(
    (a) => Number.isInteger(a) && a >= 0 && a < 18,
  );
  const escalate =
    ages.length > 0
      ? `The ad states an age under 18 (${ages.join(', ')}) and offers commercial sex.`
      : undefined;

  const url = present(details.web_page?.url);
  const webPageIncidents = url
    ? [
        {
          url: [value(url)],
          additionalInfo: present(details.web_page?.additional_info)
            ? value(details.web_page.additional_info, TEXT_LIMIT)
            : undefined,
        },
      ]
    : undefined;
  const phones = (Array.isArray(details.cell_phones) ? details.cell_phones : []).filter(
    (p) => typeof p?.phone_number === 'string',
  );
  const cellPhoneIncidents = phones.length
    ? phones.map((p) => {
        const code = (typeof p.country_calling_code === 'string' ? p.country_calling_code : '')
          .replace(/^\++/, '');
        return {
          phoneNumber: {
            number: value(p.phone_number),
            // The package's type: "The country calling code for the phone number. Starts with a +."
            countryCallingCode: code ? `+${value(code)}` : undefined,
          },
        };
      })
    : undefined;

  const reportingPerson = {
    firstName: present(reporter.first_name) && value(reporter.first_name),
    lastName: present(reporter.last_name) && value(reporter.last_name),
    phone: present(reporter.phone) ? [{ number: value(reporter.phone) }] : undefined,
    email: [{ email: value(email) }],
  };

  const emails = strings(user.emails);
  const displayNames = strings(user.display_names);
  const profileUrls = strings(user.profile_urls);
  const account = present(user.esp_identifier);
  const firstScreenName = Array.isArray(user.screen_names) ? user.screen_names[0] : undefined;
  const screenName = typeof firstScreenName === 'string' ? firstScreenName : undefined;
  const location = user.estimated_location;
  const hasLocation = location !== undefined && location !== null;
  const personOrUserReported =
    account ||
    screenName !== undefined ||
    emails.length ||
    displayNames.length ||
    profileUrls.length ||
    priorReports.length ||
    hasLocation
      ? {
          personOrUserReportedPerson: emails.length
            ? { email: emails.map((e) => ({ email: value(e) })) }
            : undefined,
          espIdentifier: account && value(account),
          screenName: screenName === undefined ? undefined : value(screenName),
          displayName: displayNames.length ? displayNames.map((n) => value(n)) : undefined,
          profileUrl: profileUrls.length ? profileUrls.map((u) => value(u)) : undefined,
          // The package types these as numbers.
          priorCTReports: priorReports.length ? priorReports.map(Number) : undefined,
          estimatedLocation: hasLocation
            ? {
                city: typeof location.city === 'string' ? value(location.city) : undefined,
                region: typeof location.region === 'string' ? value(location.region) : undefined,
                countryCode:
                  typeof location.country_code === 'string' ? value(location.country_code) : undefined,
              }
            : undefined,
        }
      : undefined;

  let info = '';
  if (present(evidence.title)) info += `Title: ${evidence.title}\n`;
  if (present(evidence.body)) info += `Text: ${evidence.body}\n`;
  for (const s of Array.isArray(evidence.signals) ? evidence.signals : []) {
    const str = (v) => (typeof v === 'string' ? v : '');
    info += `Indicator ${str(s?.indicator)}: ${str(s?.text)}\n`;
  }
  if (draft.network !== undefined && draft.network !== null) {
    const n = draft.network;
    const json = (v) => JSON.stringify(v ?? null);
    info += `Linked to ${json(n.size)} ads in ${json(n.cities)} cities (network ${typeof n.id === 'string' ? n.id : ''}).\n`;
  }

  return {
    incidentSummary: {
      incidentType: value(incidentType),
      escalateToHighPriority: escalate && value(escalate, TEXT_LIMIT),
      incidentDateTime: new Date(when),
      incidentDateTimeDescription:
        present(summary.incident_date_time_description) &&
        value(summary.incident_date_time_description, TEXT_LIMIT),
      // No `platform`: the package's IncidentSummary has no such field (see the golden test).
    },
    incidentDetails: { webPageIncidents, cellPhoneIncidents },
    reporter: {
      reportingPerson,
      termsOfService: present(reporter.terms_of_service) && value(reporter.terms_of_service),
      legalUrl: present(reporter.legal_url) && value(reporter.legal_url, URL_LIMIT),
    },
    personOrUserReported,
    additionalInfo: info ? value(info.trimEnd(), TEXT_LIMIT) : undefined,
  };
}

const path = process.argv[2];
if (!path) fail('usage: node build.mjs FIXTURE.json');
let fixture;
try {
  fixture = JSON.parse(readFileSync(path, 'utf8'));
} catch (e) {
  fail(`cannot read ${path}: ${e.message}`);
}
const report = mapDraft(fixture.draft ?? {}, strings(fixture.prior_reports));
process.stdout.write(buildReport(report));
