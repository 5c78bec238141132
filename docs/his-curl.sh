#!/usr/bin/env bash
# An outpatient visit and an inpatient stay settled with curl, as a HIS would, against
#   yibao serve --demo --insecure
# usage: docs/his-curl.sh URL FIXMEDINS_CODE PSN_NO CERTNO NAME INSUTYPE PSN_TYPE
# (all printed by the demo). Each step prints what the service answered; the script stops at a refusal.
set -euo pipefail
URL=$1 CODE=$2 PSN=$3 CERT=$4 NAME=$5 INSU=$6 TYPE=$7
ADMDVS=${CODE:1:6}
SEQ=$(mktemp)  # the msgid's sequence number, kept in a file: each call runs in a subshell
echo 0 > "$SEQ"
trap 'rm -f "$SEQ"' EXIT

call() {  # call INFNO INPUT_JSON: post one envelope, print the answer's JSON
  local n msgid
  n=$(( $(cat "$SEQ") + 1 )); echo "$n" > "$SEQ"
  msgid=$(printf '%s%s%04d' "$CODE" "$(date +%Y%m%d%H%M%S)" "$n")
  curl -sS -X POST "$URL" -H 'Content-Type: application/json' --data-binary @- <<JSON
{"infno": "$1", "msgid": "$msgid", "mdtrtarea_admvs": "$ADMDVS", "insuplc_admdvs": "$ADMDVS",
 "recer_sys_code": "YIBAO", "infver": "V1.0", "opter_type": "1", "opter": "001", "opter_name": "收费员",
 "inf_time": "$(date '+%Y-%m-%d %H:%M:%S')", "fixmedins_code": "$CODE", "fixmedins_name": "演示医院",
 "sign_no": "", "input": $2}
JSON
}

get() {  # get PATH: the answer's output at PATH (e.g. '["data"]["mdtrt_id"]'); a refusal stops here
  python3 -c 'import json, sys
a = json.load(sys.stdin)
if a["infcode"] != 0:
    sys.exit("refused: " + a["err_msg"])
print(eval("a[\"output\"]" + sys.argv[1]))' "$1"
}

who="\"psn_no\": \"$PSN\", \"mdtrt_cert_type\": \"02\", \"mdtrt_cert_no\": \"$CERT\", \"psn_cert_type\": \"01\",
     \"certno\": \"$CERT\", \"psn_name\": \"$NAME\", \"psn_type\": \"$TYPE\", \"insutype\": \"$INSU\""
line() {  # line SN MDTRT_ID ITEM PRICE COUNT AMOUNT TIME
  echo "{\"feedetl_sn\": \"$1\", \"mdtrt_id\": \"$2\", \"psn_no\": \"$PSN\", \"chrg_bchno\": \"B1\", \"rx_circ_flag\": \"0\",
   \"fee_ocur_time\": \"$7\", \"med_list_codg\": \"$3\", \"medins_list_codg\": \"$3\", \"det_item_fee_sumamt\": \"$6\",
   \"cnt\": \"$5\", \"pric\": \"$4\", \"bilg_dept_codg\": \"01\", \"bilg_dept_name\": \"内科\", \"bilg_dr_codg\": \"D1\",
   \"bilg_dr_name\": \"医生\", \"hosp_appr_flag\": \"1\", \"med_type\": \"21\"}"
}
settle() {  # settle MDTRT_ID MEDFEE MID_FLAG: the 2206/2207 and 2303/2304 input
  echo "{\"data\": {$who, \"med_type\": \"11\", \"medfee_sumamt\": \"$2\", \"psn_setlway\": \"01\", \"mdtrt_id\": \"$1\",
   \"chrg_bchno\": \"B1\", \"acct_used_flag\": \"1\", \"fulamt_ownpay_amt\": \"0\", \"overlmt_selfpay\": \"0\",
   \"preselfpay_amt\": \"0\", \"inscp_scp_amt\": \"0\", \"insuplc_admdvs\": \"$ADMDVS\", \"mdtrtarea_admvs\": \"$ADMDVS\",
   \"mid_setl_flag\": \"$3\"}}"
}
diag() {  # diag CODE TIME [extra json]
  echo "{\"diag_type\": \"1\", \"diag_srt_no\": \"1\", \"diag_code\": \"$1\", \"diag_name\": \"$1\", \"diag_dept\": \"内科\",
   \"dise_dor_no\": \"D1\", \"dise_dor_name\": \"医生\", \"diag_time\": \"$2\", \"vali_flag\": \"1\", \"maindiag_flag\": \"1\",
   \"psn_no\": \"$PSN\"${3:-}}"
}

echo "1101 人员信息: $(call 1101 "{\"data\": {\"mdtrt_cert_type\": \"02\", \"mdtrt_cert_no\": \"$CERT\", \"psn_cert_type\": \"01\",
     \"begntime\": \"2024-06-03 09:00:00\"}}" | get '["insuinfo"][0]')"

# -- an outpatient visit: 挂号, 就诊信息, 明细, 预结算, 结算 --
T="2024-06-03 09:00:00"
MD=$(call 2201 "{\"data\": {$who, \"begntime\": \"$T\", \"ipt_otp_no\": \"OP$$\", \"atddr_no\": \"D1\", \"dr_name\": \"医生\",
     \"dept_code\": \"01\", \"dept_name\": \"内科\", \"caty\": \"A03\"}}" | get '["data"]["mdtrt_id"]')
echo "2201 挂号: mdtrt_id $MD"
call 2203 "{\"mdtrtinfo\": {\"mdtrt_id\": \"$MD\", \"psn_no\": \"$PSN\", \"med_type\": \"11\", \"begntime\": \"$T\",
     \"dise_codg\": \"J06.900\", \"dise_name\": \"急性上呼吸道感染\"}, \"diseinfo\": [$(diag J06.900 "$T")]}" | get '' >/dev/null
echo "2204 明细: $(call 2204 "{\"feedetail\": [$(line 1 "$MD" 110200001 8.00 1 8.00 "$T"), $(line 2 "$MD" 210200001a 380.00 1 380.00 "$T")]}" | get '["result"][1]["inscp_scp_amt"]') 元 in scope on line 2"
echo "2206 预结算: 统筹 $(call 2206 "$(settle "$MD" 388.00 0)" | get '["setlinfo"]["hifp_pay"]') 元"
echo "2207 结算: $(call 2207 "$(settle "$MD" 388.00 0)" | get '["setlinfo"]')"

# -- an inpatient stay: 入院, 明细, 出院, 预结算, 结算 --
A="2024-06-05 08:00:00" D="2024-06-09 10:00:00"
IP=$(call 2401 "{\"mdtrtinfo\": {$who, \"cert_type\": \"01\", \"begntime\": \"$A\", \"med_type\": \"21\", \"ipt_no\": \"IP$$\",
     \"atddr_no\": \"D1\", \"chfpdr_name\": \"医生\", \"adm_diag_dscr\": \"阑尾炎\", \"adm_dept_codg\": \"02\",
     \"adm_dept_name\": \"外科\", \"adm_bed\": \"12\", \"dscg_maindiag_code\": \"K35.800\", \"dscg_maindiag_name\": \"阑尾炎\",
     \"dise_codg\": \"K35.800\", \"dise_name\": \"阑尾炎\", \"insuplc_admdvs\": \"$ADMDVS\", \"mdtrtarea_admvs\": \"$ADMDVS\"},
     \"diseinfo\": [$(diag K35.800 "$A")]}" | get '["result"]["mdtrt_id"]')
echo "2401 入院: mdtrt_id $IP"
call 2301 "{\"feedetail\": [$(line 1 "$IP" 210200001a 380.00 5 1900.00 "$A"), $(line 2 "$IP" 110200001 8.00 4 32.00 "$A")]}" | get '' >/dev/null
call 2402 "{\"dscginfo\": {\"mdtrt_id\": \"$IP\", \"psn_no\": \"$PSN\", \"insutype\": \"$INSU\", \"endtime\": \"$D\",
     \"dise_codg\": \"K35.800\", \"dise_name\": \"阑尾炎\", \"dscg_dept_codg\": \"02\", \"dscg_dept_name\": \"外科\", \"dscg_way\": \"1\"},
     \"diseinfo\": [$(diag K35.800 "$D" ", \"mdtrt_id\": \"$IP\"")]}" | get '' >/dev/null
echo "2402 出院"
echo "2303 预结算: 统筹 $(call 2303 "$(settle "$IP" 1932.00 0)" | get '["setlinfo"]["hifp_pay"]') 元"
echo "2304 结算: $(call 2304 "$(settle "$IP" 1932.00 0)" | get '["setlinfo"]')"
