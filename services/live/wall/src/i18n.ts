/**
 * The wall's words in Vietnamese (the default: the control room's language), English and
 * Chinese (the Đông Hưng side). Every key exists in every language (wall.test.ts).
 */
import { locales, type Language } from '@tower/shared/web/languages';

export { isLanguage, languages, locales, type Language } from '@tower/shared/web/languages';

const vi = {
  title: 'Trung tâm điều hành thông minh',
  subtitle: 'Cửa khẩu Móng Cái – Đông Hưng',
  zone: 'Toàn khu vực',
  'state.connecting': 'Đang kết nối',
  'state.live': 'Trực tuyến',
  'state.lost': 'Mất kết nối',
  'banner.lost': 'Mất kết nối với trung tâm dữ liệu. Đang kết nối lại… Số liệu trên màn hình có thể đã cũ.',
  'banner.token': 'Cần mã truy cập màn hình: mở trang với ?token=… (in ra bởi npm start).',
  'banner.refused': 'Mã truy cập màn hình bị từ chối (sai hoặc đã bị thu hồi): mở trang với ?token=… mới.',
  'kpi.trucksPerHour': 'Xe qua biên / giờ',
  'kpi.teuPerHour': 'TEU / giờ',
  'kpi.tonnesToday': 'Tấn hôm nay',
  'kpi.clearance': 'Làn thông minh: 95\u00a0% xe dưới',
  'kpi.clearanceManual': 'Làn thủ công: 95\u00a0% xe dưới',
  'verdict.within': 'Đạt',
  'verdict.over': 'Quá chậm',
  'verdict.too-few': 'Quá ít xe',
  'level.normal': 'Bình thường',
  'kpi.target': 'mục tiêu',
  'kpi.turnaround': 'Từ xếp hàng đến qua biên',
  'kpi.turnaroundNote': 'một nửa số xe dưới mức này',
  'kpi.queue': 'Xe đang chờ',
  'kpi.lanesOpen': 'Làn đang mở',
  'kpi.peoplePerHour': 'Người qua cửa khẩu / giờ',
  'people.exits': 'xuất cảnh',
  'people.entries': 'nhập cảnh',
  'chart.title': 'Lưu lượng 60 phút qua (mỗi phút)',
  'chart.trucks': 'Xe qua biên / phút',
  'chart.containers': 'Container / phút',
  'chart.provisional': 'số mới nhất tạm tính',
  'slots.title': 'Đặt chỗ qua cửa khẩu',
  'slots.booked': 'đã đặt',
  'slots.held': 'đang giữ',
  'slots.closed': 'nhóm làn tạm đóng',
  'slots.none': 'Chưa có khung giờ',
  'lanes.title': 'Các làn',
  'lanes.page': 'Trang',
  'lanes.continued': '(tiếp)',
  'status.open': 'Mở',
  'status.congested': 'Ùn tắc',
  'status.fault': 'Sự cố',
  'status.closed': 'Đóng',
  'status.unknown': 'Chưa rõ',
  'direction.export': 'Xuất',
  'direction.import': 'Nhập',
  'direction.both': 'Hai chiều',
  'lane.label': '{kind} · {direction}\u00a0{n}',
  'lane.place': '{direction}\u00a0{n}',
  'phase.construction': 'Đang xây dựng',
  'schematic.title': 'Các cửa khẩu dọc biên giới, từ tây sang đông, và các cảng biển',
  'schematic.china': 'Trung Quốc',
  'schematic.vietnam': 'Việt Nam',
  'schematic.sea': 'Biển',
  'schematic.ports': 'Cảng biển',
  'schematic.noLanes': 'Không có làn trong danh mục',
  'lanes.none': 'Không có làn đang hoạt động',
  'kind.smart': 'Thông minh',
  'kind.igv': 'IGV',
  'kind.weighbridge': 'Trạm cân',
  'kind.scanner': 'Máy soi',
  'kind.checkpoint': 'Kiểm soát',
  'kind.manual': 'Thủ công',
  'kind.port-gate': 'Cổng cảng',
  'kind.biometric-gate': 'Cổng tự động',
  'direction.exit': 'Xuất cảnh',
  'direction.entry': 'Nhập cảnh',
  'rotation.next': 'Chuyển sau',
  'alerts.title': 'Cảnh báo',
  'alerts.none': 'Không có cảnh báo',
  'severity.critical': 'Nghiêm trọng',
  'severity.warning': 'Chú ý',
  'alerts.acknowledge': 'Xác nhận',
  'alerts.acknowledgedBy': 'Đã xác nhận bởi',
  'alerts.cleared': 'Đã hết',
  'alerts.failed': 'Chưa xác nhận được, thử lại',
  'alerts.sound': 'Âm báo bật',
  'alerts.soundBlocked': 'Âm báo bị chặn: bấm vào màn hình',
  'rule.lane-fault': 'Sự cố thiết bị tại làn',
  'rule.queue-over-threshold': 'Hàng chờ vượt ngưỡng',
  'rule.throughput-below-nominal': 'Lưu lượng thấp hơn nhiều so với công suất',
  'rule.clearance-over-target': 'Thời gian thông quan của 95\u00a0% số xe vượt mục tiêu',
  'rule.customs-hold-spike': 'Số xe bị hải quan giữ lại tăng đột biến',
  noData: '—',
};

type Dictionary = Record<keyof typeof vi, string>;

const en: Dictionary = {
  title: 'Smart Operations Center',
  subtitle: 'Móng Cái – Dongxing border gate',
  zone: 'Whole zone',
  'state.connecting': 'Connecting',
  'state.live': 'Live',
  'state.lost': 'Connection lost',
  'banner.lost': 'Connection to the data center lost. Reconnecting… Figures on screen may be out of date.',
  'banner.token': 'A display token is needed: open the page with ?token=… (printed by npm start).',
  'banner.refused': 'The display token was refused (wrong or revoked): open the page with a new ?token=….',
  'kpi.trucksPerHour': 'Trucks crossed / hour',
  'kpi.teuPerHour': 'TEU / hour',
  'kpi.tonnesToday': 'Tonnes today',
  'kpi.clearance': 'Smart lanes: 95\u00a0% within',
  'kpi.clearanceManual': 'Manual lanes: 95\u00a0% within',
  'verdict.within': 'On target',
  'verdict.over': 'Over target',
  'verdict.too-few': 'Too few',
  'level.normal': 'Normal',
  'kpi.target': 'target',
  'kpi.turnaround': 'Queue to border crossed',
  'kpi.turnaroundNote': 'half of them faster',
  'kpi.queue': 'Trucks queuing',
  'kpi.lanesOpen': 'Lanes open',
  'kpi.peoplePerHour': 'People crossed / hour',
  'people.exits': 'out',
  'people.entries': 'in',
  'chart.title': 'Throughput, last 60 minutes (per minute)',
  'chart.trucks': 'Trucks crossed / min',
  'chart.containers': 'Containers / min',
  'chart.provisional': 'newest figures provisional',
  'slots.title': 'Crossing slots',
  'slots.booked': 'booked',
  'slots.held': 'on hold',
  'slots.closed': 'lane groups closed',
  'slots.none': 'No slot windows yet',
  'lanes.title': 'Lanes',
  'lanes.page': 'Page',
  'lanes.continued': '(continued)',
  'status.open': 'Open',
  'status.congested': 'Congested',
  'status.fault': 'Fault',
  'status.closed': 'Closed',
  'status.unknown': 'Unknown',
  'direction.export': 'Export',
  'direction.import': 'Import',
  'direction.both': 'Both ways',
  'lane.label': '{kind} · {direction}\u00a0{n}',
  'lane.place': '{direction}\u00a0{n}',
  'phase.construction': 'Under construction',
  'schematic.title': 'The crossings along the border, west to east, and the seaports',
  'schematic.china': 'China',
  'schematic.vietnam': 'Vietnam',
  'schematic.sea': 'Sea',
  'schematic.ports': 'Seaports',
  'schematic.noLanes': 'No lanes in the catalog',
  'lanes.none': 'No lanes in service',
  'kind.smart': 'Smart',
  'kind.igv': 'IGV',
  'kind.weighbridge': 'Weighbridge',
  'kind.scanner': 'Scanner',
  'kind.checkpoint': 'Checkpoint',
  'kind.manual': 'Manual',
  'kind.port-gate': 'Port gate',
  'kind.biometric-gate': 'Biometric gate',
  'direction.exit': 'Exit',
  'direction.entry': 'Entry',
  'rotation.next': 'Next in',
  'alerts.title': 'Alerts',
  'alerts.none': 'No alerts',
  'severity.critical': 'Critical',
  'severity.warning': 'Warning',
  'alerts.acknowledge': 'Acknowledge',
  'alerts.acknowledgedBy': 'Acknowledged by',
  'alerts.cleared': 'Cleared',
  'alerts.failed': 'Not acknowledged yet, try again',
  'alerts.sound': 'Sound on',
  'alerts.soundBlocked': 'Sound blocked: click the screen',
  'rule.lane-fault': 'Equipment fault on the lane',
  'rule.queue-over-threshold': 'Queue over threshold',
  'rule.throughput-below-nominal': 'Throughput far below the lane’s rate',
  'rule.clearance-over-target': 'Clearance of 95\u00a0% of trucks over target',
  'rule.customs-hold-spike': 'Spike in customs holds',
  noData: '—',
};

const zh: Dictionary = {
  title: '智能运营中心',
  subtitle: '芒街–东兴口岸',
  zone: '全区',
  'state.connecting': '正在连接',
  'state.live': '在线',
  'state.lost': '连接中断',
  'banner.lost': '与数据中心的连接已中断，正在重新连接……屏幕上的数据可能已过时。',
  'banner.token': '需要显示屏令牌：请以?token=…打开页面（由npm start打印）。',
  'banner.refused': '显示屏令牌被拒绝（错误或已吊销）：请以新的?token=…打开页面。',
  'kpi.trucksPerHour': '每小时过境车辆',
  'kpi.teuPerHour': '每小时标箱（TEU）',
  'kpi.tonnesToday': '今日吨数',
  'kpi.clearance': '智能通道：95%车辆低于',
  'kpi.clearanceManual': '人工通道：95%车辆低于',
  'verdict.within': '达标',
  'verdict.over': '超出目标',
  'verdict.too-few': '数据不足',
  'level.normal': '正常',
  'kpi.target': '目标',
  'kpi.turnaround': '排队至过境',
  'kpi.turnaroundNote': '半数车辆低于此值',
  'kpi.queue': '排队车辆',
  'kpi.lanesOpen': '开放通道',
  'kpi.peoplePerHour': '每小时出入境人数',
  'people.exits': '出境',
  'people.entries': '入境',
  'chart.title': '近60分钟通行量（每分钟）',
  'chart.trucks': '过境车辆/分钟',
  'chart.containers': '集装箱/分钟',
  'chart.provisional': '最新数字为暂定',
  'slots.title': '过境预约时段',
  'slots.booked': '已预约',
  'slots.held': '保留中',
  'slots.closed': '通道组已关闭',
  'slots.none': '暂无预约时段',
  'lanes.title': '通道',
  'lanes.page': '页',
  'lanes.continued': '（续）',
  'status.open': '开放',
  'status.congested': '拥堵',
  'status.fault': '故障',
  'status.closed': '关闭',
  'status.unknown': '未知',
  'direction.export': '出口',
  'direction.import': '进口',
  'direction.both': '双向',
  'lane.label': '{kind}·{direction}{n}',
  'lane.place': '{direction}{n}',
  'phase.construction': '在建',
  'schematic.title': '沿边境自西向东的口岸及海港',
  'schematic.china': '中国',
  'schematic.vietnam': '越南',
  'schematic.sea': '海',
  'schematic.ports': '海港',
  'schematic.noLanes': '目录中无通道',
  'lanes.none': '无运行中的通道',
  'kind.smart': '智能通道',
  'kind.igv': 'IGV无人车',
  'kind.weighbridge': '地磅',
  'kind.scanner': '查验机',
  'kind.checkpoint': '检查点',
  'kind.manual': '人工通道',
  'kind.port-gate': '港口闸口',
  'kind.biometric-gate': '自助查验通道',
  'direction.exit': '出境',
  'direction.entry': '入境',
  'rotation.next': '切换倒计时',
  'alerts.title': '告警',
  'alerts.none': '无告警',
  'severity.critical': '严重',
  'severity.warning': '警告',
  'alerts.acknowledge': '确认',
  'alerts.acknowledgedBy': '确认人',
  'alerts.cleared': '已解除',
  'alerts.failed': '确认未成功，请重试',
  'alerts.sound': '提示音已开',
  'alerts.soundBlocked': '提示音被阻止：请点击屏幕',
  'rule.lane-fault': '通道设备故障',
  'rule.queue-over-threshold': '排队超过阈值',
  'rule.throughput-below-nominal': '通行量远低于通道能力',
  'rule.clearance-over-target': '95%车辆的通关时间超过目标',
  'rule.customs-hold-spike': '海关扣留激增',
  noData: '—',
};

export type MessageKey = keyof typeof vi;
export const dictionaries: Readonly<Record<Language, Dictionary>> = { vi, en, zh };

/**
 * Words that follow a number, in each plural form the language has (`Intl.PluralRules`:
 * English one/other, Vietnamese and Chinese other only); `{n}` is the formatted number.
 * Units are the language's own: giây / s / 秒.
 */
type Forms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };
const counted = {
  trucksPerHour: { vi: { other: '{n} xe/giờ' }, en: { one: '{n} truck/h', other: '{n} trucks/h' }, zh: { other: '{n}辆/时' } },
  peoplePerHour: { vi: { other: '{n} người/giờ' }, en: { one: '{n} person/h', other: '{n} people/h' }, zh: { other: '{n}人/小时' } },
  queuing: { vi: { other: '{n} xe chờ' }, en: { one: '{n} in queue', other: '{n} in queue' }, zh: { other: '排队{n}辆' } },
  sample: { vi: { other: 'n\u00a0=\u00a0{n} xe' }, en: { one: 'n\u00a0=\u00a0{n} truck', other: 'n\u00a0=\u00a0{n} trucks' }, zh: { other: '样本{n}辆' } },
  held: { vi: { other: '{n} xe bị giữ' }, en: { one: '{n} held', other: '{n} held' }, zh: { other: '扣留{n}辆' } },
  unweighed: { vi: { other: '{n} xe chưa rõ trọng lượng' }, en: { one: '{n} truck without a weight', other: '{n} trucks without a weight' }, zh: { other: '{n}辆重量不明' } },
  longestQueue: { vi: { other: 'làn dài nhất {n} xe' }, en: { one: 'longest lane {n}', other: 'longest lane {n}' }, zh: { other: '最长通道{n}辆' } },
  moreAlerts: { vi: { other: '+{n} khác' }, en: { one: '+{n} more', other: '+{n} more' }, zh: { other: '另有{n}条' } }, // after the alerts panel's title
  seconds: { vi: { other: '{n} giây' }, en: { other: '{n} s' }, zh: { other: '{n}秒' } },
  minutes: { vi: { other: '{n} phút' }, en: { other: '{n} min' }, zh: { other: '{n}分钟' } },
} satisfies Record<string, Record<Language, Forms>>;
export type CountKey = keyof typeof counted;
export const countedWords: Readonly<Record<CountKey, Readonly<Record<Language, Forms>>>> = counted;

/** Plural rules per language and digits shown ("1.0" may take another form than "1"). */
const pluralRules = new Map<string, Intl.PluralRules>();

/** Formatters are costly to build and every tile, alert and axis label uses one: one per language and kind. */
const numberFormats = new Map<string, Intl.NumberFormat>();
const hourMinuteFormats = new Map<Language, Intl.DateTimeFormat>();

export function formatNumber(value: number, language: Language, fractionDigits = 0): string {
  const key = `${language}/${fractionDigits}`;
  let format = numberFormats.get(key);
  if (!format) numberFormats.set(key, (format = new Intl.NumberFormat(locales[language], { maximumFractionDigits: fractionDigits })));
  return format.format(value);
}

/** A time of day at the gate (Vietnam time), hours and minutes: "14:25". */
export function hourMinute(ms: number, language: Language): string {
  let format = hourMinuteFormats.get(language);
  if (!format) hourMinuteFormats.set(language, (format = new Intl.DateTimeFormat(locales[language], { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', hour12: false })));
  return format.format(ms);
}

/** A number with its words in the right plural form: "1 truck/h", "2 trucks/h", "2 xe/giờ". */
export function count(key: CountKey, value: number, language: Language, fractionDigits = 0): string {
  const rulesKey = `${language}|${fractionDigits}`;
  let rules = pluralRules.get(rulesKey);
  if (!rules) pluralRules.set(rulesKey, (rules = new Intl.PluralRules(locales[language], { maximumFractionDigits: fractionDigits })));
  const forms: Forms = countedWords[key][language];
  const form = forms[rules.select(value)] ?? forms.other;
  return form.replace('{n}', formatNumber(value, language, fractionDigits));
}

const relativeTimeFormats = new Map<Language, Intl.RelativeTimeFormat>();

/**
 * How long ago something happened, in whole units rounded down: seconds under a minute,
 * minutes under an hour, hours under a day, then days ("4 phút trước", "4 minutes ago",
 * "4分钟前"); the language's own plural forms and word order (`Intl.RelativeTimeFormat`).
 */
export function ago(elapsedMs: number, language: Language): string {
  let format = relativeTimeFormats.get(language);
  if (!format) relativeTimeFormats.set(language, (format = new Intl.RelativeTimeFormat(locales[language], { numeric: 'always', style: 'long' })));
  const seconds = Math.max(0, Math.floor(elapsedMs / 1000));
  const [value, unit]: [number, Intl.RelativeTimeFormatUnit] =
    seconds < 60 ? [seconds, 'second'] : seconds < 3600 ? [Math.floor(seconds / 60), 'minute'] : seconds < 86_400 ? [Math.floor(seconds / 3600), 'hour'] : [Math.floor(seconds / 86_400), 'day'];
  return format.format(-value, unit);
}

/** A duration in seconds with one decimal below a minute, minutes above; '—' for none. */
export function formatDuration(ms: number | null, language: Language): string {
  if (ms === null) return dictionaries[language].noData;
  const seconds = ms / 1000;
  return seconds < 60 ? count('seconds', seconds, language, 1) : count('minutes', seconds / 60, language);
}

/**
 * Short names of the catalog's sites, for lane tiles and alerts where the full name does
 * not fit (the catalog holds only full names for now; a site missing here shows its code).
 */
export const shortSiteNames: Readonly<Record<string, Readonly<Record<Language, string>>>> = {
  'bac-luan-2': { vi: 'Bắc Luân II', en: 'Bắc Luân II', zh: '北仑河二桥' },
  'van-ninh': { vi: 'Vạn Ninh', en: 'Vạn Ninh', zh: '万宁港' },
  'bac-luan-1': { vi: 'Bắc Luân I', en: 'Bắc Luân I', zh: '北仑河一桥' },
  'km3-4-hai-yen': { vi: 'Km3+4 Hải Yên', en: 'Km3+4 Hải Yên', zh: 'Km3+4浮桥' },
  'ka-long': { vi: 'Ka Long', en: 'Ka Long', zh: '卡龙' },
  'po-hen': { vi: 'Pò Hèn', en: 'Pò Hèn', zh: '波恒' },
  'hoanh-mo': { vi: 'Hoành Mô', en: 'Hoành Mô', zh: '横模' },
  'bac-phong-sinh': { vi: 'Bắc Phong Sinh', en: 'Bắc Phong Sinh', zh: '北丰生' },
  'van-gia': { vi: 'Vạn Gia', en: 'Vạn Gia', zh: '万家港' },
};
