# Scale recipe: DINOv2 ViT-L/14 + linear head on PASCAL VOC 2012 at 512 px, trained with
# mmengine's FlexibleRunner and FSDP (parameters, gradients and optimizer state sharded over
# the ranks; transformer blocks as FSDP units; bf16 compute, fp32 reductions). The Base twin of
# softeq_linear_dinov2-l14_fsdp-bf16_8xb4-4.6k_voc12-512x512.py; launch and memory:
# docs/scaling.md.
#   bash tools/dist_train.sh configs/segmentation/linear_dinov2-l14_fsdp-bf16_8xb4-4.6k_voc12-512x512.py 8
_base_ = ['./linear_dinov2-b14_8xb4-4.6k_voc12-512x512.py']
dinov2_checkpoint = 'https://download.openmmlab.com/mmpretrain/v1.0/dinov2/vit-large-p14_dinov2-pre_3rdparty_20230426-f3302d9e.pth'  # noqa: E501
model = dict(
    backbone=dict(arch='large', init_cfg=dict(checkpoint=dinov2_checkpoint)),
    decode_head=dict(in_channels=1024, channels=1024))
runner_type = 'FlexibleRunner'
strategy = dict(
    type='mmsofteq.FSDPStrategy',  # mmengine's, with a working --resume
    state_dict_cfg='full',  # one gathered checkpoint, loadable by DDP runs and plain mmseg
    model_wrapper=dict(
        auto_wrap_policy=dict(type='mmsofteq.size_based_auto_wrap_policy',
                              min_num_params=int(1e7)),
        mixed_precision=dict(param_dtype='bfloat16', reduce_dtype='float32',
                             buffer_dtype='float32')))
