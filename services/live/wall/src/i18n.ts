/**
 * The wall's words in Vietnamese (the default: the control room's language), English and
 * Chinese (the Đông Hưng side). Every key exists in every language (wall.test.ts).
 */
export const languages = ['vi', 'en', 'zh'] as const;
export type Language = (typeof languages)[number];

export const locales: Readonly<Record<Language, string>> = { vi: 'vi-VN', en: 'en-GB', zh: 'zh-CN' };

const vi = {
  title: 'Trung tâm điều hành thông minh',
  subtitle: 'Cửa khẩu Móng Cái – Đông Hưng',
  zone: 'Toàn khu vực',
  'state.connecting': 'Đang kết nối',
  'state.live': 'Trực tuyến',
  'state.lost': 'Mất kết nối',
  'banner.lost': 'Mất kết nối với trung tâm dữ liệu. Đang kết nối lại… Số liệu trên màn hình có thể đã cũ.',
  'banner.token': 'Cần mã truy cập màn hình: mở trang với ?token=… (in ra bởi npm start).',
  'kpi.trucksPerHour': 'Xe qua biên / giờ',
  'kpi.teuPerHour': 'TEU / giờ',
  'kpi.tonnesToday': 'Tấn hôm nay',
  'kpi.clearance': 'Thời gian thông quan p50 / p95',
  'kpi.target': 'mục tiêu',
  'kpi.turnaround': 'Thời gian quay vòng p50',
  'kpi.queue': 'Xe đang chờ',
  'kpi.lanesOpen': 'Làn đang mở',
  'chart.title': 'Lưu lượng 60 phút qua (mỗi phút)',
  'chart.trucks': 'Xe qua biên',
  'chart.containers': 'Container',
  'slots.title': 'Khung giờ đặt chỗ qua cửa khẩu',
  'slots.booked': 'đã đặt',
  'slots.held': 'đang giữ',
  'slots.closed': 'nhóm làn tạm đóng',
  'slots.none': 'Chưa có khung giờ',
  'lanes.title': 'Các làn',
  'sites.title': 'Các cửa khẩu và lối mở',
  'status.open': 'Mở',
  'status.congested': 'Ùn tắc',
  'status.fault': 'Sự cố',
  'status.closed': 'Đóng',
  'status.unknown': 'Chưa rõ',
  'direction.export': 'Xuất',
  'direction.import': 'Nhập',
  'direction.both': 'Hai chiều',
  'lane.queue': 'chờ',
  'lane.lastHour': 'xe/giờ',
  'site.lanes': 'làn mở',
  'site.trucks': 'xe/giờ',
  'site.queue': 'xe chờ',
  'rotation.next': 'Chuyển sau',
  'alerts.title': 'Cảnh báo',
  'alerts.none': 'Không có cảnh báo',
  'alerts.acknowledge': 'Xác nhận',
  'alerts.acknowledgedBy': 'Đã xác nhận bởi',
  'alerts.cleared': 'Đã hết',
  'alerts.failed': 'Chưa xác nhận được, thử lại',
  'rule.lane-fault': 'Sự cố thiết bị tại làn',
  'rule.queue-over-threshold': 'Hàng chờ vượt ngưỡng',
  'rule.throughput-below-nominal': 'Lưu lượng thấp hơn nhiều so với công suất',
  'rule.clearance-over-target': 'Thời gian thông quan p95 vượt mục tiêu',
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
  'kpi.trucksPerHour': 'Trucks crossed / hour',
  'kpi.teuPerHour': 'TEU / hour',
  'kpi.tonnesToday': 'Tonnes today',
  'kpi.clearance': 'Clearance time p50 / p95',
  'kpi.target': 'target',
  'kpi.turnaround': 'Turnaround p50',
  'kpi.queue': 'Trucks queuing',
  'kpi.lanesOpen': 'Lanes open',
  'chart.title': 'Throughput, last 60 minutes (per minute)',
  'chart.trucks': 'Trucks crossed',
  'chart.containers': 'Containers',
  'slots.title': 'Crossing slots',
  'slots.booked': 'booked',
  'slots.held': 'on hold',
  'slots.closed': 'lane groups closed',
  'slots.none': 'No slot windows yet',
  'lanes.title': 'Lanes',
  'sites.title': 'Border gates and crossing points',
  'status.open': 'Open',
  'status.congested': 'Congested',
  'status.fault': 'Fault',
  'status.closed': 'Closed',
  'status.unknown': 'Unknown',
  'direction.export': 'Export',
  'direction.import': 'Import',
  'direction.both': 'Both ways',
  'lane.queue': 'queuing',
  'lane.lastHour': 'trucks/h',
  'site.lanes': 'lanes open',
  'site.trucks': 'trucks/h',
  'site.queue': 'queuing',
  'rotation.next': 'Next in',
  'alerts.title': 'Alerts',
  'alerts.none': 'No alerts',
  'alerts.acknowledge': 'Acknowledge',
  'alerts.acknowledgedBy': 'Acknowledged by',
  'alerts.cleared': 'Cleared',
  'alerts.failed': 'Not acknowledged yet, try again',
  'rule.lane-fault': 'Equipment fault on the lane',
  'rule.queue-over-threshold': 'Queue over threshold',
  'rule.throughput-below-nominal': 'Throughput far below the lane’s rate',
  'rule.clearance-over-target': 'Clearance p95 over target',
  'rule.customs-hold-spike': 'Spike in customs holds',
  noData: '—',
};

const zh: Dictionary = {
  title: '智能运营中心',
  subtitle: '芒街 – 东兴 口岸',
  zone: '全区',
  'state.connecting': '正在连接',
  'state.live': '在线',
  'state.lost': '连接中断',
  'banner.lost': '与数据中心的连接已中断，正在重新连接……屏幕上的数据可能已过时。',
  'banner.token': '需要显示屏令牌：请以 ?token=… 打开页面（由 npm start 打印）。',
  'kpi.trucksPerHour': '每小时过境车辆',
  'kpi.teuPerHour': '每小时 TEU',
  'kpi.tonnesToday': '今日吨数',
  'kpi.clearance': '通关时间 p50 / p95',
  'kpi.target': '目标',
  'kpi.turnaround': '周转时间 p50',
  'kpi.queue': '排队车辆',
  'kpi.lanesOpen': '开放通道',
  'chart.title': '近 60 分钟通行量（每分钟）',
  'chart.trucks': '过境车辆',
  'chart.containers': '集装箱',
  'slots.title': '过境预约时段',
  'slots.booked': '已预约',
  'slots.held': '保留中',
  'slots.closed': '通道组已关闭',
  'slots.none': '暂无预约时段',
  'lanes.title': '通道',
  'sites.title': '口岸与通关点',
  'status.open': '开放',
  'status.congested': '拥堵',
  'status.fault': '故障',
  'status.closed': '关闭',
  'status.unknown': '未知',
  'direction.export': '出口',
  'direction.import': '进口',
  'direction.both': '双向',
  'lane.queue': '排队',
  'lane.lastHour': '辆/时',
  'site.lanes': '通道开放',
  'site.trucks': '辆/时',
  'site.queue': '排队',
  'rotation.next': '切换倒计时',
  'alerts.title': '告警',
  'alerts.none': '无告警',
  'alerts.acknowledge': '确认',
  'alerts.acknowledgedBy': '确认人',
  'alerts.cleared': '已解除',
  'alerts.failed': '确认未成功，请重试',
  'rule.lane-fault': '通道设备故障',
  'rule.queue-over-threshold': '排队超过阈值',
  'rule.throughput-below-nominal': '通行量远低于通道能力',
  'rule.clearance-over-target': '通关时间 p95 超过目标',
  'rule.customs-hold-spike': '海关扣留激增',
  noData: '—',
};

export type MessageKey = keyof typeof vi;
export const dictionaries: Readonly<Record<Language, Dictionary>> = { vi, en, zh };

export function isLanguage(value: string | null | undefined): value is Language {
  return (languages as readonly string[]).includes(value ?? '');
}

/** A duration in seconds with one decimal below a minute, minutes above; '—' for none. */
export function formatDuration(ms: number | null, language: Language): string {
  if (ms === null) return dictionaries[language].noData;
  const seconds = ms / 1000;
  const number = new Intl.NumberFormat(locales[language], { maximumFractionDigits: seconds < 60 ? 1 : 0 });
  return seconds < 60 ? `${number.format(seconds)} s` : `${number.format(seconds / 60)} min`;
}

export function formatNumber(value: number, language: Language, fractionDigits = 0): string {
  return new Intl.NumberFormat(locales[language], { maximumFractionDigits: fractionDigits }).format(value);
}
