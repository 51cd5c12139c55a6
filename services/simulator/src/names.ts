/**
 * Node names as people set them: mostly plain, some non-ASCII and emoji, one whose UTF-8 holds the frame start bytes
 * 0x94 0xC3 ("—é": E2 80 94 C3 A9), which breaks deframers that scan payloads for the frame start.
 */
export const NAMES: readonly (readonly [long: string, short: string])[] = [
  ['Café —été', 'CAFE'],
  ['Fernsehturm Relay', 'FTR'],
  ['Bäckerei Müller', 'BÄCK'],
  ['Øresund Mast', 'ØRE'],
  ['Łódź Rover', 'ŁÓD'],
  ['東京タワー', '東京'],
  ['Москва-1', 'МСК1'],
  ['🚀 Rocket Base', '🚀'],
  ['Señor Nodo', 'SEÑ'],
  ['Hilltop Solar ☀️', 'HILL'],
  ['Kreuzberg Roof', 'XBRG'],
  ['Tempelhof Field', 'THF'],
  ['Spree Boat ⛵', 'BOAT'],
  ['Wannsee Watch', 'WANN'],
  ['Alex Tracker', 'ALX'],
  ['Prenzlauer Berg', 'PBRG'],
  ['Ζήτα Node', 'ΖΗΤ'],
  ['مرحبا', 'مرح'],
  ['Grünau Weather 🌦', 'GRÜN'],
  ['Mobile Van 🚐', 'VAN'],
  ['Köpenick Castle', 'KÖP'],
  ['Pankow Garden 🌻', 'PANK'],
  ['Treptow Tower', 'TREP'],
  ['Spandau Citadel', 'SPAN'],
  ['Neukölln Hub', 'NKLN'],
];

/** Stored XSS probe: a name a hostile node could set over the air (the original rendered these with innerHTML). */
export const HOSTILE_NAME = ['<img src=x onerror=alert(1)>', '<b>'] as const;

/** Text messages; some non-ASCII, one carrying 0x94 0xC3 in its UTF-8 bytes. */
export const TEXTS: readonly string[] = [
  'café —été',
  'Hello mesh!',
  'Anyone on the Fernsehturm relay?',
  'Grüße aus Köpenick 👋',
  'test 1 2 3',
  'Battery low, going offline soon',
  'Привет всем',
  '🚲 riding along the Spree',
  'QSL, signal good here',
  'こんにちは',
  'Meet at the usual spot at 18:00?',
  'ack',
];

/** With hostile names on, text and waypoints carry markup too: every field from the air is untrusted. */
export const HOSTILE_TEXT = '<script>alert("mesh")</script>';
export const HOSTILE_WAYPOINT = '"><svg onload=alert(1)>';

export const WAYPOINT_NAMES: readonly string[] = ['Meetup ☕', 'Repeater site', 'Parking', 'Camp 🏕', 'Viewpoint'];
