/**
 * Alert types as people read them, in zh-CN and English: the one table used
 * by notification texts (alerts/notify/format.ts) and the web app's i18n.
 * Pure data, no imports: the browser bundle includes it as it is.
 */
export const ALERT_TYPE_LABELS = {
  emergency_call: { zh: '紧急呼叫', en: 'Emergency call' },
  low_battery: { zh: '电量低', en: 'Low battery' },
  device_unavailable: { zh: '设备离线', en: 'Device unavailable' },
  gateway_offline: { zh: '网关离线', en: 'Gateway offline' },
  fire_alarm: { zh: '火警', en: 'Fire alarm' },
  medical_alarm: { zh: '医疗求助', en: 'Medical' },
  panic_alarm: { zh: '劫盗/胁迫', en: 'Panic / duress' },
  intrusion: { zh: '入侵', en: 'Intrusion' },
  panel_trouble: { zh: '设备故障', en: 'Trouble' },
  panel_offline: { zh: '报警主机离线', en: 'Panel offline' },
  supervisory: { zh: '监管', en: 'Supervisory' },
  part_shielded: { zh: '部件屏蔽', en: 'Detector shielded' },
  camera_offline: { zh: '摄像机离线', en: 'Camera offline' },
  camera_tamper: { zh: '摄像机遮挡/破坏', en: 'Camera tampered' },
  recording_stalled: { zh: '录像中断', en: 'Recording stalled' },
  retention_at_risk: { zh: '存储不足', en: 'Retention at risk' },
  coverage_gap: { zh: '覆盖缺失', en: 'Coverage gap' },
  post_check_missed: { zh: '查岗未应答', en: 'Post check missed' },
  fire_room_understaffed: { zh: '消控室人员不足', en: 'Fire room understaffed' },
  operator_certificate_expired: { zh: '证书过期', en: 'Certificate expired' },
  shift_too_long: { zh: '值班超时', en: 'Shift too long' },
  duty_log_overdue: { zh: '值班记录超时', en: 'Duty log overdue' },
} as const satisfies Record<string, { zh: string; en: string }>;

export type AlertTypeName = keyof typeof ALERT_TYPE_LABELS;

/** The labels of every alert type in one language, as an i18n table fragment. */
export function alertTypeLabels(lang: 'zh' | 'en'): Record<AlertTypeName, string> {
  return Object.fromEntries(Object.entries(ALERT_TYPE_LABELS).map(([k, v]) => [k, v[lang]])) as Record<
    AlertTypeName,
    string
  >;
}
